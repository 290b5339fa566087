"""The two tables every criterion reads: per-rep metrics and per-account facts.

Built the same way for the draft and for the refined plan, so that "did the
managers' edits make it fairer?" compares like with like.

Per rep (``REP_COLUMNS``), from the books, quotas and roster:

- ``potential_per_fte``, ``workload_per_fte``, ``intent_potential_per_fte``,
  ``current_arr_per_fte``, ``accounts_per_fte``: the book's sums over its FTE;
- ``potential_per_account``: territory quality (a book of few rich accounts vs
  many thin ones); ``customer_share``: customers / accounts; ``intent_share``:
  intent-weighted potential / potential (how in-market the book is);
- ``quota_to_potential`` and ``quota_to_ramped_potential``: quota over potential,
  and over potential x ramp factor, so that a new hire whose quota is ramped is
  not flagged for a book that is rightly full-sized (``ramped_potential`` is the
  matching weight: the segment ratio is then sum of quotas / sum of ramped potential).

Per account: ``changed_owner`` (1/0 against the previous owner, missing for
accounts that had none, so new accounts do not count as disruption),
``overridden`` (owner set by a manager's override), ``moved_in_review``
(owner differs from the draft's), plus potential, ARR and every numeric account
column a user criterion may name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REP_COLUMNS = (
    "rep_id", "name", "manager_id", "segment", "region", "status", "carries_book", "fte", "potential", "potential_per_fte",
    "accounts", "accounts_per_fte", "customers", "customer_share", "workload", "workload_per_fte", "intent_potential",
    "intent_potential_per_fte", "intent_share", "current_arr", "current_arr_per_fte", "potential_per_account",
    "quota", "ramp_factor", "ramped_potential", "quota_to_potential", "quota_to_ramped_potential", "deviation",
)
ACCOUNT_COLUMNS = (
    "account_id", "rep_id", "previous_rep_id", "draft_rep_id", "segment", "region", "potential", "current_arr",
    "is_customer", "changed_owner", "overridden", "moved_in_review",
)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    den = pd.to_numeric(den, errors="coerce").astype(float)
    return pd.to_numeric(num, errors="coerce").astype(float) / den.where(den > 0)


def _text(values: pd.Series) -> pd.Series:
    return values.astype("str").where(values.notna(), "").str.strip()


def rep_metrics(books: pd.DataFrame, quotas: pd.DataFrame | None = None, reps: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per rep of ``books`` (``plan_lib.balance`` books table) with the columns in ``REP_COLUMNS``.

    ``quotas``: the quota step's table (rep_id, quota, ramp_factor); ``reps``: the
    roster, for names and managers in the report.
    """
    frame = books.copy()
    frame["rep_id"] = _text(frame["rep_id"])
    for column in ("accounts", "customers", "workload", "intent_potential", "current_arr"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0.0) if column in frame else 0.0
    frame["fte"] = pd.to_numeric(frame["fte"], errors="coerce").fillna(0.0).astype(float)
    frame["potential"] = pd.to_numeric(frame["potential"], errors="coerce").fillna(0.0).astype(float)
    if "carries_book" not in frame:
        frame["carries_book"] = frame["fte"] > 0
    frame["carries_book"] = frame["carries_book"].fillna(False).astype(bool)
    for column in ("region", "status", "segment"):
        frame[column] = _text(frame[column]) if column in frame else ""
    for column in ("potential", "workload", "intent_potential", "current_arr", "accounts"):
        frame[f"{column}_per_fte"] = _ratio(frame[column], frame["fte"])
    frame["potential_per_account"] = _ratio(frame["potential"], frame["accounts"])
    frame["customer_share"] = _ratio(frame["customers"], frame["accounts"])
    frame["intent_share"] = _ratio(frame["intent_potential"], frame["potential"])
    if quotas is not None and len(quotas):
        q = quotas.assign(rep_id=_text(quotas["rep_id"])).drop_duplicates("rep_id").set_index("rep_id")
        frame["quota"] = pd.to_numeric(q["quota"], errors="coerce").reindex(frame["rep_id"]).to_numpy()
        ramp = q["ramp_factor"] if "ramp_factor" in q else pd.Series(1.0, index=q.index)
        frame["ramp_factor"] = pd.to_numeric(ramp, errors="coerce").reindex(frame["rep_id"]).to_numpy()
    else:
        frame["quota"], frame["ramp_factor"] = np.nan, np.nan
    frame["ramp_factor"] = frame["ramp_factor"].where(frame["quota"].isna() | frame["ramp_factor"].notna(), 1.0)
    frame["ramped_potential"] = frame["potential"] * frame["ramp_factor"]
    frame["quota_to_potential"] = _ratio(frame["quota"], frame["potential"])
    frame["quota_to_ramped_potential"] = _ratio(frame["quota"], frame["ramped_potential"])
    if "deviation" not in frame:
        frame["deviation"] = np.nan
    if reps is not None and len(reps):
        roster = reps.assign(rep_id=_text(reps["rep_id"])).drop_duplicates("rep_id").set_index("rep_id")
        for column in ("name", "manager_id"):
            values = roster[column] if column in roster else pd.Series("", index=roster.index)
            frame[column] = _text(values).reindex(frame["rep_id"]).fillna("").to_numpy()
    else:
        frame["name"], frame["manager_id"] = "", ""
    extra = [c for c in frame.columns if c not in REP_COLUMNS]
    return frame[list(REP_COLUMNS) + extra].reset_index(drop=True)


def _truthy(values: pd.Series) -> pd.Series:
    if values.dtype == bool:
        return values
    text = values.astype("str").str.strip().str.lower()
    return text.isin(["true", "1", "1.0", "yes", "y", "t"]) & values.notna()


def account_metrics(assignments: pd.DataFrame, accounts: pd.DataFrame, rep_regions: pd.Series | None = None) -> pd.DataFrame:
    """One row per assigned account with the columns in ``ACCOUNT_COLUMNS`` (plus the accounts' numeric columns).

    ``assignments``: account_id, rep_id, optional previous_rep_id, draft_rep_id,
    overridden, segment. ``accounts``: account_id and attributes (potential,
    current_arr, is_customer...). ``rep_regions``: rep_id -> region, so that the
    scope ``region`` groups accounts by their owner's region, as it groups reps.
    """
    frame = assignments.copy()
    frame["account_id"] = _text(frame["account_id"])
    frame["rep_id"] = _text(frame["rep_id"])
    for column in ("previous_rep_id", "draft_rep_id"):
        frame[column] = _text(frame[column]) if column in frame else (frame["rep_id"] if column == "draft_rep_id" else "")
    frame["overridden"] = frame["overridden"].fillna(False).astype(bool) if "overridden" in frame else False
    info = accounts.assign(account_id=_text(accounts["account_id"])).drop_duplicates("account_id")
    keep = [c for c in info.columns if c != "account_id" and c not in frame.columns]
    frame = frame.merge(info[["account_id", *keep]], on="account_id", how="left", validate="one_to_one")
    for column in ("potential", "current_arr"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0.0).astype(float) if column in frame else 0.0
    frame["is_customer"] = _truthy(frame["is_customer"]) if "is_customer" in frame else False
    frame["segment"] = _text(frame["segment"]) if "segment" in frame else ""
    regions = rep_regions if rep_regions is not None else pd.Series(dtype="str")
    frame["region"] = frame["rep_id"].map(regions).fillna("").astype("str")
    had_owner = frame["previous_rep_id"] != ""
    frame["changed_owner"] = np.where(had_owner, (frame["rep_id"] != frame["previous_rep_id"]).astype(float), np.nan)
    frame["moved_in_review"] = frame["rep_id"] != frame["draft_rep_id"]
    extra = [c for c in frame.columns if c not in ACCOUNT_COLUMNS]
    return frame[list(ACCOUNT_COLUMNS) + extra].reset_index(drop=True)
