"""Re-runs honour the review: overrides become balancer locks and quota adjustments.

A new ``tqp run`` takes the current plan version's live overrides
(``admin.export_overrides``) and this pure function turns them into

- ``locks`` for the balancer (reassignments and locks alike fix an account to
  a rep): account_id, rep_id, source='override', reason;
- ``quota_adjustments`` for the quota step: rep_id, quota, author, reason;
- a ``report`` of every override, honoured or not, with the reason, which the
  notebook lists so nobody's edit disappears silently.

An override no longer applies when its account left the data, its rep left
the roster or is leaving, the account changed segment away from the rep, a
later override on the same account (or account family) supersedes it, or its
quota is not a valid amount.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from plan_lib.review.errors import ReviewError

HONOURED = "honoured"
NOT_APPLICABLE = "not applicable"
LOCK_COLUMNS = ["account_id", "rep_id", "source", "reason"]
ADJUSTMENT_COLUMNS = ["rep_id", "quota", "author", "reason"]
REPORT_COLUMNS = ["override_id", "kind", "account_id", "rep_id", "quota", "author", "reason", "status", "detail"]
REQUIRED = ("override_id", "kind", "account_id", "rep_id", "quota", "author", "reason")


class AppliedOverrides(NamedTuple):
    locks: pd.DataFrame
    quota_adjustments: pd.DataFrame
    report: pd.DataFrame


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def apply_overrides(assignments: pd.DataFrame, quotas: pd.DataFrame, overrides: pd.DataFrame) -> AppliedOverrides:
    """Turn live overrides into constraints for the next run.

    ``assignments``: the accounts the new run plans, one row per ``account_id``
    (optional ``segment``, ``parent_account_id``). ``quotas``: the reps who can
    carry a book or a quota in the new run, one row per ``rep_id`` (optional
    ``status``, ``segment``). ``overrides``: as exported by ``export_overrides``.
    """
    missing = [c for c in REQUIRED if c not in overrides.columns]
    if missing:
        raise ReviewError(f"overrides table lacks column(s) {', '.join(missing)}: export it with plan_lib.review.admin.export_overrides")
    accounts = assignments.assign(account_id=assignments["account_id"].astype("str")).drop_duplicates("account_id").set_index("account_id")
    reps = quotas.assign(rep_id=quotas["rep_id"].astype("str")).drop_duplicates("rep_id").set_index("rep_id")
    order = ["updated_at", "override_id"] if "updated_at" in overrides.columns else ["override_id"]
    ordered = overrides.sort_values(order, kind="stable").reset_index(drop=True)

    status: dict[int, tuple[str, str]] = {}
    account_lock: dict[str, tuple[str, list[int]]] = {}  # account -> (rep, override ids)
    family_lock: dict[str, tuple[str, int]] = {}
    quota_by_rep: dict[str, int] = {}

    def family_of(account_id: str) -> str:
        if "parent_account_id" in accounts.columns:
            parent = _text(accounts.at[account_id, "parent_account_id"])
            if parent:
                return parent
        return account_id

    for row in ordered.itertuples(index=False):
        oid, kind = int(str(row.override_id)), str(row.kind)
        account_id, rep_id = _text(row.account_id), _text(row.rep_id)
        if kind in ("reassign", "lock"):
            if account_id is None or account_id not in accounts.index:
                status[oid] = (NOT_APPLICABLE, f"account {account_id} is no longer in this run's accounts")
                continue
            if rep_id is None or rep_id not in reps.index:
                status[oid] = (NOT_APPLICABLE, f"rep {rep_id} is no longer in this run's roster")
                continue
            if "status" in reps.columns and _text(reps.at[rep_id, "status"]) == "leaving":
                status[oid] = (NOT_APPLICABLE, f"rep {rep_id} is leaving")
                continue
            if "segment" in reps.columns and "segment" in accounts.columns:
                a_seg, r_seg = _text(accounts.at[account_id, "segment"]), _text(reps.at[rep_id, "segment"])
                if a_seg and r_seg and a_seg != r_seg:
                    status[oid] = (NOT_APPLICABLE, f"account {account_id} is now {a_seg} and rep {rep_id} sells {r_seg}")
                    continue
            previous = account_lock.get(account_id)
            if previous and previous[0] != rep_id:
                for earlier in previous[1]:
                    status[earlier] = (NOT_APPLICABLE, f"superseded by override {oid} ({kind} to {rep_id})")
                previous = None
            family = family_of(account_id)
            held = family_lock.get(family)
            if held and held[0] != rep_id:
                for other, (other_rep, ids) in list(account_lock.items()):
                    if other != account_id and family_of(other) == family and other_rep != rep_id:
                        for earlier in ids:
                            status[earlier] = (NOT_APPLICABLE, f"account family {family} is fixed to {rep_id} by later override {oid}")
                        del account_lock[other]
            account_lock[account_id] = (rep_id, (previous[1] if previous else []) + [oid])
            family_lock[family] = (rep_id, oid)
            status[oid] = (HONOURED, f"{account_id} fixed to {rep_id}")
        elif kind == "quota":
            quota = pd.to_numeric(pd.Series([row.quota]), errors="coerce").iloc[0]
            if rep_id is None or rep_id not in reps.index:
                status[oid] = (NOT_APPLICABLE, f"rep {rep_id} is no longer in this run's roster")
            elif not np.isfinite(quota) or quota < 0:
                status[oid] = (NOT_APPLICABLE, f"quota {row.quota!r} is not a valid amount")
            else:
                if rep_id in quota_by_rep:
                    status[quota_by_rep[rep_id]] = (NOT_APPLICABLE, f"superseded by override {oid}")
                quota_by_rep[rep_id] = oid
                status[oid] = (HONOURED, f"quota of {rep_id} set to {quota:,.0f}")
        else:
            status[oid] = (NOT_APPLICABLE, f"unknown override kind {kind!r}")

    by_id = ordered.set_index(ordered["override_id"].astype(int)).astype({"kind": str, "author": str, "reason": str})
    records = by_id.to_dict("index")
    lock_rows = []
    for account_id, (rep_id, ids) in account_lock.items():
        parts = [f"{records[i]['kind']} by {records[i]['author']}: {records[i]['reason']}" for i in ids]
        lock_rows.append({"account_id": account_id, "rep_id": rep_id, "source": "override", "reason": "; ".join(parts)})
    adjustment_rows = [
        {"rep_id": rep_id, "quota": float(records[oid]["quota"]), "author": records[oid]["author"], "reason": records[oid]["reason"]}
        for rep_id, oid in quota_by_rep.items()
    ]
    report = ordered.assign(
        status=[status[int(i)][0] for i in ordered["override_id"]],
        detail=[status[int(i)][1] for i in ordered["override_id"]],
    )[REPORT_COLUMNS]
    locks = pd.DataFrame(lock_rows, columns=LOCK_COLUMNS).sort_values("account_id").reset_index(drop=True)
    adjustments = pd.DataFrame(adjustment_rows, columns=ADJUSTMENT_COLUMNS).sort_values("rep_id").reset_index(drop=True)
    return AppliedOverrides(locks, adjustments.astype({"quota": float}), report.sort_values("override_id").reset_index(drop=True))
