"""Why each account sits where it does: one reason per account, plus a sentence.

Reasons, checked in this order (the first that applies wins):

- ``no eligible rep``: the account's segment has no rep carrying a book;
- ``new account``: no previous owner;
- ``lock``: a lock (parameters or review override) put it there, moved or not;
- ``protected``: a customer with an open opportunity kept its owner;
- ``named account``: the named-accounts rule put it there;
- ``kept``: same rep as last period;
- ``rep departure``: the previous owner is leaving or no longer on the roster;
- ``eligibility``: the previous owner may not own it any more (segment, region,
  vertical, role or FTE changed);
- ``compactness``: it moved to a rep closer to it (or cheaper, with a cost matrix);
- ``balance``: it moved to a rep no closer, to bring books into the band.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from plan_lib.balance.geometry import PointSet, haversine_pairs

REASONS = (
    "no eligible rep",
    "new account",
    "lock",
    "protected",
    "named account",
    "kept",
    "rep departure",
    "eligibility",
    "compactness",
    "balance",
)


def account_distances(accounts: pd.DataFrame, reps: pd.DataFrame, rep_ids: pd.Series) -> np.ndarray:
    """km from each account to the home of the given rep (NaN when unknown)."""
    pos = pd.Series(np.arange(len(reps)), index=reps["rep_id"].to_numpy())
    idx = rep_ids.map(pos)
    ok = idx.notna().to_numpy()
    out = np.full(len(accounts), np.nan)
    if ok.any():
        a = PointSet.from_degrees(accounts["lat"].to_numpy(), accounts["lon"].to_numpy())
        b = PointSet.from_degrees(reps["home_lat"].to_numpy(), reps["home_lon"].to_numpy())
        rows = np.flatnonzero(ok)
        out[rows] = haversine_pairs(a, rows, b, idx.to_numpy()[ok].astype(np.int64))
    return out


def pair_cost(
    cost: pd.DataFrame | None, account_id: pd.Series, rep_id: pd.Series
) -> np.ndarray | None:
    """Supplied cost of (account, rep) pairs, NaN where absent; None without a cost table."""
    if cost is None:
        return None
    if {"account_id", "rep_id", "cost"} <= set(cost.columns):
        long = cost[["account_id", "rep_id", "cost"]].astype({"account_id": str, "rep_id": str})
    else:
        wide = cost.copy()
        wide.index, wide.columns = wide.index.astype(str), wide.columns.astype(str)
        wide.index.name, wide.columns.name = "account_id", "rep_id"
        long = wide.stack().rename("cost").reset_index()
    lookup = long.set_index(["account_id", "rep_id"])["cost"]
    lookup = lookup[~lookup.index.duplicated()]
    key = pd.MultiIndex.from_arrays([account_id.astype(str), rep_id.astype(str)])
    return lookup.reindex(key).to_numpy(dtype=float)


def explain(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    flags: pd.DataFrame,
    rep_id: pd.Series,
    eligible_owner: np.ndarray,
    before_deviation: pd.Series,
    cost: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Reason and sentence per account (same row order as ``accounts``).

    ``eligible_owner``: whether the previous owner could have kept the account under
    this plan's rules; ``before_deviation``: per rep, the deviation of its book had
    nobody moved (keep-last-year), used to say how overloaded a giver was.
    """
    prev = accounts["current_owner"]
    moved = (rep_id != prev).to_numpy()
    status = accounts["owner_status"].to_numpy()
    on_roster = prev.isin(reps["rep_id"]).to_numpy()
    d_new = account_distances(accounts, reps, rep_id)
    d_old = account_distances(accounts, reps, prev)
    c_new, c_old = (
        pair_cost(cost, accounts["account_id"], rep_id),
        pair_cost(cost, accounts["account_id"], prev),
    )
    closer = (c_new < c_old - 1e-12) if c_new is not None else (d_new < d_old - 1e-9)
    unassigned = (rep_id == "").to_numpy()
    new = (prev == "").to_numpy()
    lock = flags["locked"].to_numpy()
    protected = flags["protected"].to_numpy()
    named = flags["named"].to_numpy()
    departure = moved & ((status == "leaving") | ~on_roster)
    conditions = [
        unassigned,
        new,
        lock,
        protected & ~moved,
        named,
        ~moved,
        departure,
        moved & ~eligible_owner,
        moved & closer,
        moved,
    ]
    reason = np.select(conditions, list(REASONS), default="balance")
    dev_prev = prev.map(before_deviation).to_numpy(dtype=float)
    detail = np.full(len(accounts), "", dtype=object)
    pv, nw = prev.to_numpy(), rep_id.to_numpy()
    for r, text in (
        ("rep departure", lambda i: f"{pv[i]} is leaving or off the roster; now with {nw[i]}"),
        (
            "eligibility",
            lambda i: f"{pv[i]} may no longer own it under the rules; now with {nw[i]}",
        ),
        (
            "lock",
            lambda i: f"locked to {nw[i]}" + (f" (was {pv[i]})" if moved[i] and pv[i] else ""),
        ),
        (
            "compactness",
            lambda i: f"{pv[i]} -> {nw[i]}: " + _closer_text(d_old[i], d_new[i], c_old, c_new, i),
        ),
        (
            "balance",
            lambda i: (
                f"{pv[i]} -> {nw[i]}: {pv[i]}'s book would be {dev_prev[i]:+.1%} vs the segment mean"
            ),
        ),
        ("new account", lambda i: f"new account, given to {nw[i]}" if nw[i] else "new account"),
    ):
        for i in np.flatnonzero(reason == r):
            detail[i] = text(i)
    return pd.DataFrame(
        {"moved": moved & ~unassigned & ~new, "reason": reason, "reason_detail": detail}
    )


def _closer_text(
    d_old: float, d_new: float, c_old: np.ndarray | None, c_new: np.ndarray | None, i: int
) -> str:
    if c_new is not None:
        return f"cost {c_old[i]:.4g} -> {c_new[i]:.4g}"
    return f"{d_old:.0f} km -> {d_new:.0f} km"
