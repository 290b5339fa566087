"""Manager review: a scoped, collaborative, audited store of overrides, and its dashboard.

Modules, one job each:

- ``models`` / ``migrations``: the tables and their versioned schema (Alembic);
- ``store``: engine settings (SQLite WAL or PostgreSQL), migrations, transactions;
- ``plan``: the draft run a plan version is based on (hierarchy, assignments, quotas);
- ``access``: ``ReviewSession``, every read and write bound to one user and scope;
- ``concurrency``: optimistic concurrency (etags, stale-edit refusals);
- ``versions``: plan version states; ``admin``: operator actions (users, versions, export);
- ``tokens``: signed invite links; ``serve``: ``tqp serve`` / ``tqp invite``;
- ``indicators`` / ``views`` / ``dashboard``: what managers see and do;
- ``overrides``: ``apply_overrides`` for the next run; ``params``: ``ReviewParams``.

Heavy modules (widgets, Voila) are imported on use, not here.
"""

from plan_lib.review import lock_models  # noqa: F401  (registers the lock, waiver and publication tables on Base.metadata)
from plan_lib.review.access import EditResult, ReviewSession
from plan_lib.review.errors import (
    AccessDeniedError,
    AuditLogError,
    ExpiredTokenError,
    InvalidEditError,
    MissingTokenError,
    OverrideConflictError,
    PlanStateError,
    ReviewError,
    StaleEditError,
    StoreError,
    TamperedTokenError,
    TokenError,
    VersionNotOpenError,
)
from plan_lib.review.overrides import AppliedOverrides, apply_overrides
from plan_lib.review.params import ReviewParams
from plan_lib.review.store import Store, open_store

__all__ = [
    "AccessDeniedError", "AppliedOverrides", "AuditLogError", "EditResult", "ExpiredTokenError", "InvalidEditError",
    "MissingTokenError", "OverrideConflictError", "PlanStateError", "ReviewError", "ReviewParams", "ReviewSession",
    "StaleEditError", "Store", "StoreError", "TamperedTokenError", "TokenError", "VersionNotOpenError",
    "apply_overrides", "open_store",
]
