"""CRM-ready exports of a locked plan, the change list against the previous publication, and their reconciliation.

Files (one row per line, plain CSV, ids as text):

- ``account_owners``: every account of the plan exactly once, with its owner (id, name, e-mail);
- ``quotas``: quota per rep for the period; ``quota_schedule``: the same split by
  calendar month (or quarter), with each sub-period's first and last day;
- ``hierarchy``: every person with their manager (id and e-mail) and quota (team quota for managers);
- ``account_changes``: accounts whose owner changes against the baseline, old and new owner;
- ``quota_changes``: quotas that are new or changed against the baseline (same rep and period).

The baseline is the previously published plan; before the first publication it is
the owners in the CRM (``current_owner`` at ingest) and there are no earlier quotas.
``reconcile`` checks, before anything is written, that every account appears
once, owners are on the roster, each rep's account count matches the books,
and quota totals match the quota table and its seasonal split.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from plan_lib.fairness.errors import PublishError
from plan_lib.paramtypes import period_bounds

CRM_BASELINE = "the CRM's current owners (no earlier publication)"
QUOTA_TOLERANCE = 0.5


def _text(values: pd.Series) -> pd.Series:
    return values.astype("str").where(values.notna(), "").str.strip().replace({"nan": "", "None": ""})


@dataclass
class CrmExports:
    """The export tables plus what they were compared with and the reconciliation checks."""

    account_owners: pd.DataFrame
    quotas: pd.DataFrame
    quota_schedule: pd.DataFrame
    hierarchy: pd.DataFrame
    account_changes: pd.DataFrame
    quota_changes: pd.DataFrame
    baseline: str
    checks: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in ("account_owners", "quotas", "quota_schedule", "hierarchy", "account_changes", "quota_changes")}


def _people(reps: pd.DataFrame) -> pd.DataFrame:
    frame = reps.assign(rep_id=_text(reps["rep_id"])).drop_duplicates("rep_id").set_index("rep_id")
    for column in ("name", "email", "role", "manager_id", "segment", "region", "status"):
        frame[column] = _text(frame[column]) if column in frame else ""
    return frame


def account_owner_table(assignments: pd.DataFrame, accounts: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    people = _people(reps)
    frame = assignments[["account_id", "rep_id"]].assign(account_id=lambda f: _text(f["account_id"]), rep_id=lambda f: _text(f["rep_id"]))
    info = accounts.assign(account_id=_text(accounts["account_id"])).drop_duplicates("account_id").set_index("account_id")
    segment = _text(assignments["segment"]) if "segment" in assignments else _text(info["segment"].reindex(frame["account_id"])).to_numpy()
    return pd.DataFrame({
        "account_id": frame["account_id"].to_numpy(),
        "account_name": _text(info["name"]).reindex(frame["account_id"]).fillna("").to_numpy() if "name" in info else "",
        "owner_rep_id": frame["rep_id"].to_numpy(),
        "owner_name": people["name"].reindex(frame["rep_id"]).fillna("").to_numpy(),
        "owner_email": people["email"].reindex(frame["rep_id"]).fillna("").to_numpy(),
        "segment": np.asarray(segment),
        "parent_account_id": _text(info["parent_account_id"]).reindex(frame["account_id"]).fillna("").to_numpy() if "parent_account_id" in info else "",
    }).sort_values("account_id", kind="stable").reset_index(drop=True)


def quota_table(quotas: pd.DataFrame, reps: pd.DataFrame, period: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    people = _people(reps)
    ids = _text(quotas["rep_id"])
    return pd.DataFrame({
        "rep_id": ids.to_numpy(),
        "rep_name": people["name"].reindex(ids).fillna("").to_numpy(),
        "rep_email": people["email"].reindex(ids).fillna("").to_numpy(),
        "manager_id": _text(quotas["manager_id"]).to_numpy() if "manager_id" in quotas else people["manager_id"].reindex(ids).fillna("").to_numpy(),
        "segment": _text(quotas["segment"]).to_numpy() if "segment" in quotas else "",
        "region": _text(quotas["region"]).to_numpy() if "region" in quotas else "",
        "period": period, "period_start": start.isoformat(), "period_end": end.isoformat(),
        "quota": pd.to_numeric(quotas["quota"], errors="coerce").fillna(0.0).astype(float).to_numpy(),
    }).sort_values("rep_id", kind="stable").reset_index(drop=True)


def _calendar_bounds(name: str, start: dt.date, end: dt.date) -> tuple[str, str]:
    """First and last day of a calendar month ``YYYY-MM`` or quarter ``YYYYQn``, clipped to the plan period."""
    if "Q" in name:
        first, last = period_bounds(name)
    else:
        first = dt.date.fromisoformat(f"{name}-01")
        last = (dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)) - dt.timedelta(days=1)
    return max(first, start).isoformat(), min(last, end).isoformat()


def schedule_table(schedule: pd.DataFrame, reps: pd.DataFrame, period: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    people = _people(reps)
    ids = _text(schedule["rep_id"])
    bounds = [_calendar_bounds(str(c), start, end) for c in schedule["calendar"]]
    return pd.DataFrame({
        "rep_id": ids.to_numpy(),
        "rep_email": people["email"].reindex(ids).fillna("").to_numpy(),
        "period": period,
        "subperiod": _text(schedule["subperiod"]).to_numpy(),
        "calendar": _text(schedule["calendar"]).to_numpy(),
        "start_date": [b[0] for b in bounds],
        "end_date": [b[1] for b in bounds],
        "quota": pd.to_numeric(schedule["quota"], errors="coerce").fillna(0.0).astype(float).to_numpy(),
    }).sort_values(["rep_id", "subperiod"], kind="stable").reset_index(drop=True)


def hierarchy_table(reps: pd.DataFrame, rollup: pd.DataFrame | None) -> pd.DataFrame:
    people = _people(reps).reset_index()
    quota = pd.Series(dtype=float)
    if rollup is not None and len(rollup):
        quota = pd.to_numeric(rollup["quota"], errors="coerce").set_axis(_text(rollup["node_id"]))
    emails = people.set_index("rep_id")["email"]
    return pd.DataFrame({
        "person_id": people["rep_id"], "name": people["name"], "email": people["email"], "role": people["role"],
        "manager_id": people["manager_id"], "manager_email": people["manager_id"].map(emails).fillna(""),
        "segment": people["segment"], "region": people["region"], "status": people["status"],
        "quota": people["rep_id"].map(quota).astype(float),
    }).sort_values("person_id", kind="stable").reset_index(drop=True)


def change_list(owners: pd.DataFrame, quotas: pd.DataFrame, assignments: pd.DataFrame, reps: pd.DataFrame,
                previous: dict[str, pd.DataFrame] | None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Accounts whose owner changes and quotas that change, against the previous publication (else the CRM)."""
    people = _people(reps)
    now = owners.set_index("account_id")["owner_rep_id"]
    if previous is not None:
        before = previous["account_owners"].assign(account_id=lambda f: _text(f["account_id"])).set_index("account_id")
        before_owner = _text(before["owner_rep_id"])
        baseline = "the previous publication"
    else:
        frame = assignments.assign(account_id=_text(assignments["account_id"])).set_index("account_id")
        before_owner = _text(frame["previous_rep_id"]) if "previous_rep_id" in frame else pd.Series("", index=frame.index)
        before_owner = before_owner[before_owner != ""]
        baseline = CRM_BASELINE
    ids = now.index.union(before_owner.index)
    old, new = before_owner.reindex(ids).fillna(""), now.reindex(ids).fillna("")
    kind = np.select([(old != "") & (new != "") & (old != new), (old == "") & (new != ""), (old != "") & (new == "")],
                     ["moved", "assigned", "removed"], default="")
    changed = pd.DataFrame({"account_id": ids, "old_owner_rep_id": old.to_numpy(), "new_owner_rep_id": new.to_numpy(), "change": kind})
    changed = changed[changed["change"] != ""].reset_index(drop=True)
    changed.insert(1, "account_name", changed["account_id"].map(owners.set_index("account_id")["account_name"]).fillna(""))
    for side in ("old", "new"):
        changed[f"{side}_owner_name"] = changed[f"{side}_owner_rep_id"].map(people["name"]).fillna("")
        changed[f"{side}_owner_email"] = changed[f"{side}_owner_rep_id"].map(people["email"]).fillna("")
    if {"reason", "reason_detail"} <= set(assignments.columns):
        why = assignments.assign(account_id=_text(assignments["account_id"])).set_index("account_id")
        changed["reason"] = changed["account_id"].map(_text(why["reason"])).fillna("")
        changed["reason_detail"] = changed["account_id"].map(_text(why["reason_detail"])).fillna("")

    key = ["rep_id", "period"]
    new_q = quotas.set_index(key)["quota"]
    old_q = pd.Series(dtype=float, index=pd.MultiIndex.from_arrays([[], []], names=key))
    if previous is not None and "quotas" in previous:
        prev = previous["quotas"].assign(rep_id=lambda f: _text(f["rep_id"]), period=lambda f: _text(f["period"]))
        prev = prev[prev["period"].isin(quotas["period"].unique())]  # another period's quotas are not updated, only added to
        old_q = pd.to_numeric(prev.set_index(key)["quota"], errors="coerce")
    keys = new_q.index.union(old_q.index)
    a, b = old_q.reindex(keys), new_q.reindex(keys)
    quota_changes = pd.DataFrame({"rep_id": keys.get_level_values(0), "period": keys.get_level_values(1),
                                  "old_quota": a.to_numpy(float), "new_quota": b.to_numpy(float)})
    quota_changes["change"] = quota_changes["new_quota"].fillna(0.0) - quota_changes["old_quota"].fillna(0.0)
    quota_changes["change_pct"] = quota_changes["change"] / quota_changes["old_quota"].where(quota_changes["old_quota"] > 0)
    quota_changes["kind"] = np.select([a.isna().to_numpy(), b.isna().to_numpy()], ["new", "removed"], default="changed")
    quota_changes = quota_changes[(quota_changes["kind"] != "changed") | (quota_changes["change"].abs() >= QUOTA_TOLERANCE)]
    quota_changes.insert(1, "rep_name", quota_changes["rep_id"].map(people["name"]).fillna(""))
    return changed.sort_values("account_id").reset_index(drop=True), quota_changes.reset_index(drop=True), baseline


def reconcile(exports: CrmExports, assignments: pd.DataFrame, books: pd.DataFrame, quotas: pd.DataFrame, reps: pd.DataFrame) -> dict[str, Any]:
    """Check the exports against the plan; raise PublishError naming every mismatch (change lists not needed yet)."""
    owners, problems = exports.account_owners, []
    plan_ids = set(_text(assignments["account_id"]))
    duplicated = owners["account_id"].duplicated()
    if duplicated.any():
        problems.append(f"{int(duplicated.sum())} accounts appear more than once, e.g. {owners.loc[duplicated, 'account_id'].iloc[0]}")
    missing, extra = plan_ids - set(owners["account_id"]), set(owners["account_id"]) - plan_ids
    if missing or extra:
        problems.append(f"{len(missing)} plan accounts missing from the export, {len(extra)} not in the plan")
    assigned = owners[owners["owner_rep_id"] != ""]
    unknown = sorted(set(assigned["owner_rep_id"]) - set(_text(reps["rep_id"])))
    if unknown:
        problems.append(f"owners not on the roster: {', '.join(unknown[:10])}")
    per_rep = assigned.groupby("owner_rep_id").size()
    book_counts = books.assign(rep_id=_text(books["rep_id"])).set_index("rep_id")["accounts"].astype(int)
    reps_seen = per_rep.index.union(book_counts.index)
    differs = per_rep.reindex(reps_seen).fillna(0).astype(int) != book_counts.reindex(reps_seen).fillna(0).astype(int)
    if differs.any():
        problems.append(f"accounts per owner differ from the books' account counts for {int(differs.sum())} reps, e.g. {differs[differs].index[0]}")
    quota_total = float(pd.to_numeric(quotas["quota"], errors="coerce").fillna(0.0).sum())
    if abs(exports.quotas["quota"].sum() - quota_total) > QUOTA_TOLERANCE or len(exports.quotas) != len(quotas):
        problems.append(f"quota export total {exports.quotas['quota'].sum():,.0f} differs from the plan's {quota_total:,.0f}")
    split = exports.quota_schedule.groupby("rep_id")["quota"].sum()
    whole = exports.quotas.set_index("rep_id")["quota"]
    off = (split.reindex(whole.index).fillna(0.0) - whole).abs() > QUOTA_TOLERANCE
    if off.any():
        problems.append(f"seasonal split does not add up to the quota for {int(off.sum())} reps, e.g. {off[off].index[0]}")
    if problems:
        raise PublishError("the exports do not reconcile with the plan, nothing was published: " + "; ".join(problems))
    return {
        "accounts": len(owners), "accounts_unassigned": int((owners["owner_rep_id"] == "").sum()),
        "owners": int(per_rep.size), "quota_reps": len(exports.quotas), "quota_total": float(exports.quotas["quota"].sum()),
        "schedule_rows": len(exports.quota_schedule),
    }


def build_exports(plan: dict[str, pd.DataFrame], period: str, start: dt.date, end: dt.date,
                  previous: dict[str, pd.DataFrame] | None = None) -> CrmExports:
    """Every export of a locked plan, reconciled. ``plan``: assignments, books, quotas, quota_schedule, rollup, reps, accounts."""
    reps = plan["reps"]
    owners = account_owner_table(plan["assignments"], plan["accounts"], reps)
    quotas = quota_table(plan["quotas"], reps, period, start, end)
    schedule = schedule_table(plan["quota_schedule"], reps, period, start, end)
    hierarchy = hierarchy_table(reps, plan.get("rollup"))
    exports = CrmExports(owners, quotas, schedule, hierarchy, pd.DataFrame(), pd.DataFrame(), "")
    checks = reconcile(exports, plan["assignments"], plan["books"], plan["quotas"], reps)
    exports.account_changes, exports.quota_changes, exports.baseline = change_list(owners, quotas, plan["assignments"], reps, previous)
    changes = exports.account_changes["change"]
    exports.checks = {**checks, "account_changes": len(changes), "accounts_moved": int((changes == "moved").sum()),
                      "quota_changes": len(exports.quota_changes), "baseline": exports.baseline}
    return exports
