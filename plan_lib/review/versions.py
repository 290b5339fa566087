"""Plan version states and who may act in each.

draft -> (pilot ->) review -> locked -> published. RevOps prepares a draft
alone, opens it to a pilot group of managers or to everyone, locks it for the
fairness checks, and publishes it. A locked version never changes again (the
fairness lock's database triggers enforce it): a change after lock is a new
plan version (``plan_lib.fairness.lock.new_version_after_lock``).
"""

from __future__ import annotations

from plan_lib.review.errors import PlanStateError

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("pilot", "review"),
    "pilot": ("review", "draft"),
    "review": ("locked", "pilot"),
    "locked": ("published",),
    "published": (),
}
#: States in which managers (hierarchy roles) may edit; RevOps and admin may also edit drafts.
EDITABLE = ("pilot", "review")
GLOBAL_EDITABLE = ("draft", "pilot", "review")


def check_transition(current: str, new: str) -> None:
    if new not in TRANSITIONS.get(current, ()):
        allowed = ", ".join(TRANSITIONS.get(current, ())) or "nothing (it is final)"
        raise PlanStateError(f"a plan version in state '{current}' cannot move to '{new}'; from '{current}' it can move to: {allowed}")
