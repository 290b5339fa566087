"""The refined plan: the draft with the plan version's overrides applied directly.

Why directly, and not by re-solving the balancer with the overrides as locks:
the managers reviewed and agreed on specific books (the dashboard showed the
draft with their moves applied); the lock must check and freeze exactly those
books. A re-solve would move accounts nobody reviewed (an edit in one team can
shuffle another team's accounts) and the fairness check would then judge a plan
nobody saw, so "did the managers' edits make it fairer?" would have no answer.
Re-solving with the overrides as locks is what the next ``tqp run`` does
(``plan_lib.review.apply_overrides``), when a fresh draft is wanted.

Rules:

- ``plan_lib.review.apply_overrides`` decides which overrides still apply (rep
  left, segment changed, superseded...); its report lists each one with why.
- Reassignments and locks fix an account to a rep; the account's whole family
  (``family_root``) goes with it, because a family stays in one book.
- Quota adjustments are kept as set; the quota step then reallocates the other
  reps of their target rows (see ``api.refine_step``), so quotas follow the
  potential that moved and every level still sums to its target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from plan_lib.balance.metrics import books_table
from plan_lib.balance.params import BalanceParams
from plan_lib.balance.prepare import normalise_accounts, normalise_reps
from plan_lib.review.overrides import HONOURED, apply_overrides

OVERRIDE_COLUMNS = ["override_id", "kind", "account_id", "rep_id", "from_rep_id", "quota", "author", "reason", "updated_at"]


@dataclass
class RefinedAssignments:
    """The refined assignments, the overrides' fate, and the quota adjustments to keep."""

    assignments: pd.DataFrame  # draft columns + draft_rep_id, overridden, override_reason
    report: pd.DataFrame  # one row per override: status (honoured / not applicable), detail, family members moved
    quota_adjustments: pd.DataFrame  # rep_id, quota, author, reason

    @property
    def moved_in_review(self) -> int:
        return int((self.assignments["rep_id"] != self.assignments["draft_rep_id"]).sum())


def empty_overrides() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float" if c == "quota" else "object") for c in OVERRIDE_COLUMNS})


def _eligible_reps(books: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """Who may receive an account or a quota: book carriers, and managers (quota adjustments of a team)."""
    carriers = books.loc[books["carries_book"].astype(bool), ["rep_id", "segment", "status"]]
    roster = reps.assign(rep_id=reps["rep_id"].astype("str"))
    role = roster["role"].astype("str").str.lower() if "role" in roster else pd.Series("rep", index=roster.index)
    managers = roster.loc[role != "rep", ["rep_id"]].assign(segment=None, status="active")
    return pd.concat([carriers, managers], ignore_index=True).drop_duplicates("rep_id")


def refine_assignments(draft: pd.DataFrame, books: pd.DataFrame, reps: pd.DataFrame, overrides: pd.DataFrame) -> RefinedAssignments:
    """Apply a version's live overrides to the draft assignments (see the module docstring)."""
    assignments = draft.copy()
    assignments["account_id"] = assignments["account_id"].astype("str")
    assignments["rep_id"] = assignments["rep_id"].astype("str")
    if "family_root" not in assignments:
        assignments["family_root"] = assignments["account_id"]
    assignments["family_root"] = assignments["family_root"].astype("str")
    assignments["draft_rep_id"] = assignments["rep_id"]
    assignments["overridden"] = False
    assignments["override_reason"] = pd.Series(None, index=assignments.index, dtype="object")
    if overrides is None or not len(overrides):
        report = pd.DataFrame(columns=["override_id", "kind", "account_id", "rep_id", "quota", "author", "reason", "status", "detail", "family_moved"])
        adjustments = pd.DataFrame({"rep_id": pd.Series(dtype="str"), "quota": pd.Series(dtype=float),
                                    "author": pd.Series(dtype="str"), "reason": pd.Series(dtype="str")})
        return RefinedAssignments(assignments, report, adjustments)

    parent = assignments["family_root"].where(assignments["family_root"] != assignments["account_id"])
    families = assignments[["account_id"]].assign(segment=assignments.get("segment"), parent_account_id=parent)
    applied = apply_overrides(families, _eligible_reps(books, reps), overrides)

    locks = applied.locks.set_index("account_id")
    family_of = assignments.set_index("account_id")["family_root"]
    family_rep = pd.Series(locks["rep_id"].to_numpy(), index=family_of.reindex(locks.index).to_numpy())
    family_rep = family_rep[~family_rep.index.duplicated(keep="last")]
    new_rep = assignments["family_root"].map(family_rep)
    assignments["rep_id"] = pd.Series(np.where(new_rep.notna(), new_rep.astype(object), assignments["rep_id"]), index=assignments.index, dtype="str")
    direct = assignments["account_id"].isin(locks.index)
    assignments["overridden"] = direct.to_numpy()
    assignments.loc[direct, "override_reason"] = assignments.loc[direct, "account_id"].map(locks["reason"])
    follower = new_rep.notna() & ~direct
    changed = assignments["rep_id"] != assignments["draft_rep_id"]
    previous = assignments["previous_rep_id"].astype("str") if "previous_rep_id" in assignments else pd.Series("", index=assignments.index)
    if "moved" in assignments:
        assignments["moved"] = (assignments["rep_id"] != previous) & (previous != "")
    if "reason" in assignments:
        assignments.loc[direct & changed, "reason"] = "override"
        assignments.loc[direct & ~changed, "reason"] = "lock"
        assignments.loc[follower & changed, "reason"] = "override"
    if "reason_detail" in assignments:
        assignments.loc[direct, "reason_detail"] = assignments.loc[direct, "override_reason"].astype("str")
        roots = assignments.loc[follower & changed, "family_root"]
        assignments.loc[follower & changed, "reason_detail"] = "moved with its account family (root " + roots + ") after a review override"

    moved_along = (follower & changed).groupby(assignments["family_root"]).sum()
    report = applied.report.copy()
    report["family_moved"] = [
        int(moved_along.get(family_of.get(str(a), ""), 0)) if s == HONOURED and k in ("reassign", "lock") else 0
        for a, s, k in zip(report["account_id"], report["status"], report["kind"], strict=True)
    ]
    return RefinedAssignments(assignments.reset_index(drop=True), report, applied.quota_adjustments)


def plan_accounts(raw: pd.DataFrame, balance: BalanceParams) -> pd.DataFrame:
    """The balancer's view of the accounts (``plan_lib.planning.balance_accounts``) with ``workload`` as it derives it."""
    notes: list[dict] = []
    normalised = normalise_accounts(raw, balance, notes)
    frame = raw.reset_index(drop=True).copy()
    frame["account_id"] = frame["account_id"].astype("str")
    for column in ("workload", "potential", "intent_potential", "current_arr", "is_customer", balance.balance_metric):
        frame[column] = normalised[column].to_numpy()
    return frame


def plan_books(accounts: pd.DataFrame, reps: pd.DataFrame, assignments: pd.DataFrame, balance: BalanceParams,
               before: pd.DataFrame | None = None) -> pd.DataFrame:
    """Books of an assignment, measured exactly like the balancer's (``plan_lib.balance.metrics.books_table``).

    ``before``: the draft books, whose ``potential_before`` / ``deviation_before``
    (last period's books) are carried over, since they do not depend on the plan.
    """
    notes: list[dict] = []
    normalised = normalise_accounts(accounts, balance, notes)
    owner = normalised["account_id"].map(assignments.assign(account_id=assignments["account_id"].astype("str")).set_index("account_id")["rep_id"])
    books = books_table(normalised, normalise_reps(reps, notes), owner.fillna("").astype("str"),
                        metric=balance.balance_metric, tau=balance.tau)
    if before is not None and {"potential_before", "deviation_before"} <= set(before.columns):
        books = books.merge(before[["rep_id", "potential_before", "deviation_before"]], on="rep_id", how="left")
    return books
