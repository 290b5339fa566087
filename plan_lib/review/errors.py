"""Errors of the review store, its access rules and its invite tokens.

Every message is written for the person in front of the dashboard or the
command line: what was refused, why, and what to do next (refresh, ask RevOps
for a new link, unlock first...). The dashboard shows ``str(error)`` as is.
"""

from __future__ import annotations

from dataclasses import dataclass

from plan_lib.errors import TqpError


class ReviewError(TqpError):
    """Base class of every review error."""


class StoreError(ReviewError):
    """The review database cannot be opened, migrated or used."""


class AccessDeniedError(ReviewError):
    """The user asked for something outside their part of the hierarchy or their role."""


class VersionNotOpenError(AccessDeniedError):
    """The plan version is not open to this user (a draft, or a pilot they are not part of)."""


class PlanStateError(ReviewError):
    """The plan version's state does not allow this action (e.g. editing a locked plan)."""


class OverrideConflictError(ReviewError):
    """An edit contradicts another live override (e.g. moving an account that is locked)."""


class InvalidEditError(ReviewError):
    """An edit is malformed: no reason given, unknown account or rep, negative quota."""


class AuditLogError(ReviewError):
    """Someone tried to change or delete audit history, which is append-only."""


@dataclass(frozen=True)
class Change:
    """One change a stale edit missed: what happened, by whom, when."""

    action: str
    actor: str
    at: str
    summary: str


class StaleEditError(ReviewError):
    """An edit was based on a view that has changed since; nothing was written.

    Carries the changes the user did not see, so the message can say what
    changed and by whom instead of a bare "conflict".
    """

    def __init__(self, subject: str, seen: int, current: int, changes: list[Change]):
        self.subject, self.seen, self.current, self.changes = subject, seen, current, changes
        if changes:
            lines = "; ".join(f"{c.summary} by {c.actor} at {c.at}" for c in changes[-5:])
        else:
            lines = "it was changed by someone else"
        super().__init__(
            f"{subject} changed since you loaded it (your view: version {seen}, now: version {current}): "
            f"{lines}. Nothing was saved: refresh, then redo your edit if it still makes sense."
        )


class TokenError(ReviewError):
    """An invite link's token cannot be trusted; the dashboard shows a refusal page."""

    reason = "invalid"


class MissingTokenError(TokenError):
    reason = "missing"

    def __init__(self) -> None:
        super().__init__("This page needs your personal link: open the link RevOps sent you (it ends in ?invite=...).")


class TamperedTokenError(TokenError):
    reason = "tampered"

    def __init__(self) -> None:
        super().__init__(
            "This link is not valid: it was changed or cut off, or it was made for another installation. "
            "Open the exact link RevOps sent you, or ask them for a new one (`tqp invite USER`)."
        )


class ExpiredTokenError(TokenError):
    reason = "expired"

    def __init__(self, expired_at: str) -> None:
        self.expired_at = expired_at
        super().__init__(f"This link expired on {expired_at}. Ask RevOps for a new one (`tqp invite USER`).")


class RevokedTokenError(TokenError):
    reason = "revoked"

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        super().__init__(
            f"This link for '{user_id}' was withdrawn (the user is inactive or their links were reset). "
            "Ask RevOps for a new one (`tqp invite USER`)."
        )


class SecretError(ReviewError):
    """The signing secret is missing, unreadable or stored somewhere unsafe."""
