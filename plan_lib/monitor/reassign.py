"""Limited rebalances of the monitored plan (through ``plan_lib.balance``) and quotas that follow the moves.

Mid-period changes must stay small and local, so a rebalance here is never a
new plan: it involves one book (out of line, or of a rep who leaves) and its k
nearest books of the same segment (by rep home; book centroid when a home is
unknown), and it runs ``balance_books`` on just those books with

- the plan's holder as ``current_owner`` (continuity is measured against the plan);
- locks: accounts with a deal in flight stay where they are (resize), or every
  account outside the leaving book stays with its owner (departure);
- a move cap (``max_move_share``) and the band ``tau`` of the resize settings;
- the leaving rep marked ``leaving`` (the balancer never gives a leaving rep a book).

Quotas follow potential from an effective date: an account worth share ``s`` of
its old book takes ``s x quota x (1 - expected share before the date)`` of the old
holder's quota to the new holder; the old holder keeps what was expected before
the date (all of it for a leaver, who keeps the credit of the days worked). Only
amounts move between reps, so every total (team, segment, company) is unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from plan_lib.balance import BalanceParams, balance_books
from plan_lib.geo import haversine_km
from plan_lib.monitor.actuals import day_number
from plan_lib.monitor.attainment import expected_share
from plan_lib.monitor.plan import Plan, lookup
from plan_lib.monitor.units import account_shares


@dataclass
class Rebalance:
    """Outcome of one limited rebalance."""

    reps: list[str]  # the neighbourhood, seed first
    moves: pd.DataFrame  # account_id, from_rep_id, to_rep_id, potential
    books: pd.DataFrame  # rep_id, fte, potential_before, potential_after
    status: str
    notes: list[dict[str, Any]] = field(default_factory=list)


def rep_locations(plan: Plan) -> np.ndarray:
    """(lat, lon) of each rep: the home, else the potential-weighted centre of the book."""
    loc = plan.reps[["home_lat", "home_lon"]].to_numpy(dtype=float).copy()
    acc = plan.accounts
    held = (acc["rep"].to_numpy() >= 0) & acc["lat"].notna().to_numpy() & acc["lon"].notna().to_numpy()
    w = acc["potential"].to_numpy()[held] + 1e-9
    r = acc["rep"].to_numpy()[held]
    total = np.bincount(r, weights=w, minlength=plan.n_reps)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.c_[np.bincount(r, weights=w * acc["lat"].to_numpy()[held], minlength=plan.n_reps) / total,
                       np.bincount(r, weights=w * acc["lon"].to_numpy()[held], minlength=plan.n_reps) / total]
    missing = np.isnan(loc).any(axis=1)
    loc[missing] = centre[missing]
    return loc


def nearest_peers(plan: Plan, seed: int, k: int, exclude: np.ndarray, same_region: bool, locations: np.ndarray) -> list[int]:
    """The k nearest reps of the seed's segment (and region, if accounts may not leave it), not excluded."""
    reps = plan.reps
    candidates = (reps["segment"].to_numpy() == reps["segment"].iat[seed]) & ~exclude
    if same_region:
        candidates &= reps["region"].to_numpy() == reps["region"].iat[seed]
    candidates[seed] = False
    pool = np.flatnonzero(candidates)
    if len(pool) == 0:
        return []
    if np.isnan(locations[seed]).any():
        order = pool[np.argsort(reps["rep_id"].to_numpy()[pool])]
    else:
        dist = haversine_km(locations[seed, 0], locations[seed, 1], locations[pool, 0], locations[pool, 1])
        dist = np.where(np.isnan(dist), np.inf, dist)
        order = pool[np.lexsort((reps["rep_id"].to_numpy()[pool], dist))]
    return [int(i) for i in order[:k]]


def rebalance(
    plan: Plan,
    members: list[int],
    params: BalanceParams,
    *,
    lock_accounts: np.ndarray | None = None,
    leaving: set[int] | None = None,
) -> Rebalance:
    """Run the balancer on the books of ``members`` (rep indices); see the module docstring."""
    leaving = leaving or set()
    reps = plan.reps.iloc[members]
    acc = plan.accounts
    rows = np.flatnonzero(np.isin(acc["rep"].to_numpy(), members))
    segment = str(reps["segment"].iat[0])
    sub = acc.iloc[rows]
    holder_id = plan.reps["rep_id"].to_numpy()[sub["rep"].to_numpy()]
    accounts = pd.DataFrame({
        "account_id": sub["account_id"].to_numpy(),
        "parent_account_id": sub["parent_account_id"].to_numpy(),
        "segment": segment,  # the neighbourhood's segment: balance inside it, whatever the account's label
        "region": sub["region"].to_numpy(),
        "industry": sub["industry"].to_numpy(),
        "lat": sub["lat"].to_numpy(), "lon": sub["lon"].to_numpy(),
        "potential": sub["potential"].to_numpy(),
        "current_arr": np.nan_to_num(sub["current_arr"].to_numpy(dtype=float)),
        "employees": np.nan_to_num(sub["employees"].to_numpy(dtype=float)),
        "is_customer": sub["is_customer"].to_numpy(dtype=bool),
        "current_owner": holder_id,
    })
    roster = pd.DataFrame({
        "rep_id": reps["rep_id"].to_numpy(),
        "role": "rep",
        "segment": segment,
        "region": reps["region"].to_numpy(),
        "status": ["leaving" if m in leaving else "active" for m in members],
        "capacity_fte": np.where(reps["fte"].to_numpy(dtype=float) > 0, reps["fte"].to_numpy(dtype=float), 1.0),
        "home_lat": reps["home_lat"].to_numpy(), "home_lon": reps["home_lon"].to_numpy(),
    })
    locks = None
    if lock_accounts is not None:
        locked = lock_accounts[rows] & ~np.isin(sub["rep"].to_numpy(), list(leaving))
        locks = pd.DataFrame({"account_id": accounts["account_id"][locked], "rep_id": holder_id[locked], "source": "parameters",
                              "reason": "monitor"})
    result = balance_books(accounts, roster, params, locks=locks)
    assigned = result.assignments
    moved = assigned["rep_id"].to_numpy() != assigned["previous_rep_id"].to_numpy()
    moves = pd.DataFrame({
        "account_id": assigned["account_id"][moved].to_numpy(),
        "from_rep_id": assigned["previous_rep_id"][moved].to_numpy(),
        "to_rep_id": assigned["rep_id"][moved].to_numpy(),
        "potential": accounts["potential"].to_numpy()[moved],
    })
    before = pd.Series(accounts["potential"].to_numpy()).groupby(accounts["current_owner"].to_numpy()).sum()
    after = pd.Series(accounts["potential"].to_numpy()).groupby(assigned["rep_id"].to_numpy()).sum()
    books = pd.DataFrame({"rep_id": roster["rep_id"], "fte": roster["capacity_fte"]})
    books["potential_before"] = books["rep_id"].map(before).fillna(0.0).to_numpy()
    books["potential_after"] = books["rep_id"].map(after).fillna(0.0).to_numpy()
    notes = list(result.report.get("violations", []))[:5]
    return Rebalance([str(r) for r in roster["rep_id"]], moves, books, str(result.report.get("status", "")), notes)


def prorate_quotas(
    plan: Plan,
    moves: pd.DataFrame,
    effective: dt.date,
    period_start: dt.date,
    period_end: dt.date,
    basis: str,
) -> pd.DataFrame:
    """Quota changes when ``moves`` (account_id, from_rep_id, to_rep_id) take effect on ``effective``.

    One row per rep whose quota changes: rep_id, quota_before, quota_after, change,
    kept_share (expected share before the date), effective_date. Sums are preserved.
    """
    columns = ["rep_id", "quota_before", "quota_after", "change", "kept_share", "effective_date"]
    if len(moves) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float if c not in ("rep_id", "effective_date") else object) for c in columns})
    giver = lookup(moves["from_rep_id"], plan.reps["rep_id"])
    taker = lookup(moves["to_rep_id"], plan.reps["rep_id"])
    account = lookup(moves["account_id"], plan.accounts["account_id"])
    known = (giver >= 0) & (taker >= 0) & (account >= 0)  # moves of accounts the plan's reps did not hold carry no quota
    giver, taker = giver[known], taker[known]
    share = account_shares(plan)[account[known]]
    before = expected_share(plan, period_start, period_end, day_number(effective) - 1, basis)
    quota = plan.reps["quota"].to_numpy(dtype=float)
    transfer = quota[giver] * share * (1.0 - before[giver])
    delta = np.bincount(taker, weights=transfer, minlength=plan.n_reps) - np.bincount(giver, weights=transfer, minlength=plan.n_reps)
    touched = np.flatnonzero(np.bincount(np.r_[giver, taker], minlength=plan.n_reps) > 0)
    return pd.DataFrame({
        "rep_id": plan.reps["rep_id"].to_numpy()[touched],
        "quota_before": quota[touched],
        "quota_after": quota[touched] + delta[touched],
        "change": delta[touched],
        "kept_share": before[touched],
        "effective_date": effective,
    })
