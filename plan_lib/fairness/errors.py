"""Errors of the fairness, lock and publish stage; each message says what to do next."""

from __future__ import annotations

from plan_lib.errors import TqpError
from plan_lib.review.errors import PlanStateError


class FairnessError(TqpError):
    """Base class of the stage's errors."""


class CriterionError(FairnessError):
    """A criterion names a column that the plan does not have, or cannot be computed."""


class WaiverError(FairnessError):
    """A waiver is malformed (no author, no reason) or waives something that does not fail."""


class LockRefusedError(FairnessError):
    """The plan cannot be locked: criteria fail without a waiver, or the plan changed since the analysis."""


class VersionLockedError(PlanStateError):
    """A locked plan version was about to change; a change after lock is a new version."""


class PublishError(FairnessError):
    """The plan cannot be published (not locked, already published, exports do not reconcile)."""
