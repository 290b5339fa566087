"""Attainment, pacing and coverage for every unit of every level.

Definitions (per unit; sums over its reps or accounts):

- ``attainment`` = bookings to date / quota.
- ``expected_share``: the share of the quota that should be booked by the end of
  as_of. With a monthly (or quarterly) quota split in the quotas table
  (quota_m1, quota_m2...: seasonality and ramp), each sub-period's quota accrues
  evenly over its days; without one, the share of the period's days elapsed.
- ``pacing`` = attainment / expected_share (1.0 = exactly on pace); a unit is
  ``on_track`` when pacing >= ``flags.on_track_pacing``.
- ``coverage`` = open pipeline x win rate / remaining quota (remaining = quota -
  bookings, at least 0). Every open opportunity counts (the contract carries no
  expected close date), weighted by the win rate of the rep credited with it.
- ``penetration`` = bookings / (annual potential x days elapsed / 365.25): how much
  of the potential expected so far turned into bookings.

Industry and geography (state, county) are groups of accounts, not of reps, and
quotas belong to reps: each rep's quota (and quota to date and FTE) is allocated
to the accounts of their book in proportion to account potential (equal shares
in a zero-potential book), then summed per industry or place. So industry
attainment says how the accounts of that industry convert against the part of
the quotas their potential justifies. Quota of reps without accounts appears as
the unit "(no accounts)" so the levels' totals agree.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from plan_lib.monitor.actuals import Actuals, day_number
from plan_lib.monitor.params import MonitorParams
from plan_lib.monitor.plan import Plan
from plan_lib.monitor.units import UNALLOCATED, Grouping, account_shares, grouping

DAYS_PER_YEAR = 365.25


def elapsed_share(period_start: dt.date, period_end: dt.date, day: dt.date | int) -> float:
    """Share of the period's days that have ended by the end of ``day`` (0 before, 1 after)."""
    start, end = day_number(period_start), day_number(period_end)
    d = day if isinstance(day, int | np.integer) else day_number(day)
    return float(np.clip((d - start + 1) / (end - start + 1), 0.0, 1.0))


def _sub_period_fractions(plan: Plan, period_start: dt.date, period_end: dt.date, day: int) -> np.ndarray:
    """Per sub-period of the quota split (months or quarters of the period): share of its days ended by ``day``."""
    days = np.arange(np.datetime64(period_start, "D"), np.datetime64(period_end, "D") + 1)
    months = days.astype("datetime64[M]").astype(np.int64)
    units = months if plan.split_unit == "month" else months // 3
    _, unit_of_day = np.unique(units, return_inverse=True)
    n = int(unit_of_day.max()) + 1
    total = np.bincount(unit_of_day, minlength=n)
    ended = np.bincount(unit_of_day, weights=(days.astype(np.int64) <= day).astype(float), minlength=n)
    return ended / total


def expected_share(plan: Plan, period_start: dt.date, period_end: dt.date, day: int, basis: str = "seasonal") -> np.ndarray:
    """Per rep, the share of the quota expected by the end of ``day`` (see module docstring)."""
    linear = np.full(plan.n_reps, elapsed_share(period_start, period_end, int(day)))
    if basis != "seasonal" or not plan.split_columns:
        return linear
    fractions = _sub_period_fractions(plan, period_start, period_end, int(day))
    if len(fractions) != len(plan.split_columns):  # the split belongs to another calendar: do not guess
        return linear
    split = plan.reps[plan.split_columns].to_numpy(dtype=float)
    quota = plan.reps["quota"].to_numpy(dtype=float)
    accrued = split @ fractions
    return np.where(quota > 0, accrued / np.where(quota > 0, quota, 1.0), linear)


def _masks(actuals: Actuals, rate: np.ndarray, company_rate: float) -> dict[str, np.ndarray]:
    """Per-opportunity masks and expected values used by every level (computed once)."""
    won, lost, open_ = actuals.won_in_period, actuals.lost_in_period, actuals.open_now
    rep_rate = np.where(actuals.rep >= 0, rate[np.maximum(actuals.rep, 0)], company_rate)
    return {
        "won": won, "lost": lost, "open": open_,
        "expected": np.where(open_, actuals.amount * rep_rate, 0.0),
    }


def _unit_figures(g: Grouping, plan: Plan, actuals: Actuals, masks: dict[str, np.ndarray], share: np.ndarray,
                  qtd_rep: np.ndarray) -> dict[str, np.ndarray]:
    reps = plan.reps
    quota, fte, potential = (reps[c].to_numpy(dtype=float) for c in ("quota", "fte", "potential"))
    amount = actuals.amount
    if g.base == "rep":
        base_values = {"quota": quota, "quota_to_date": qtd_rep, "fte": fte, "potential": potential,
                       "n_reps": np.ones(plan.n_reps)}
        out = {k: g.sum_by(v) for k, v in base_values.items()}
        index = actuals.rep
    else:
        acc_rep = plan.accounts["rep"].to_numpy()
        safe = np.maximum(acc_rep, 0)
        held = acc_rep >= 0
        out = {
            "quota": g.sum_by(np.where(held, quota[safe] * share, 0.0)),
            "quota_to_date": g.sum_by(np.where(held, qtd_rep[safe] * share, 0.0)),
            "fte": g.sum_by(np.where(held, fte[safe] * share, 0.0)),
            "potential": g.sum_by(plan.accounts["potential"].to_numpy(dtype=float)),
        }
        codes = g.unit_of(np.arange(plan.n_accounts))
        pairs = pd.DataFrame({"u": codes[held], "r": acc_rep[held]}).drop_duplicates()
        out["n_reps"] = np.bincount(pairs["u"][pairs["u"] >= 0], minlength=g.size).astype(float)
        index = actuals.account
    for name, mask, weight in (
        ("bookings", masks["won"], amount), ("won_deals", masks["won"], None),
        ("lost_amount", masks["lost"], amount), ("lost_deals", masks["lost"], None),
        ("open_pipeline", masks["open"], amount), ("open_deals", masks["open"], None),
        ("expected_pipeline", masks["open"], masks["expected"]),
    ):
        values = np.ones(int(mask.sum())) if weight is None else weight[mask]
        out[name] = g.sum_by(values, index[mask])
    return out


def _unallocated_row(plan: Plan, qtd_rep: np.ndarray) -> dict[str, float] | None:
    empty = plan.reps["accounts"].to_numpy() == 0
    quota = plan.reps["quota"].to_numpy(dtype=float)
    if not (empty & (quota > 0)).any():
        return None
    return {"quota": float(quota[empty].sum()), "quota_to_date": float(qtd_rep[empty].sum()),
            "fte": float(plan.reps["fte"].to_numpy()[empty].sum()), "potential": 0.0, "n_reps": float(empty.sum())}


def attainment_table(
    plan: Plan,
    actuals: Actuals,
    rate: np.ndarray,
    company_rate: float,
    params: MonitorParams,
    period_start: dt.date,
    period_end: dt.date,
) -> pd.DataFrame:
    """One row per unit of each level in ``params.levels`` (see the module docstring for every column)."""
    share = account_shares(plan)
    qtd_rep = plan.reps["quota"].to_numpy(dtype=float) * expected_share(plan, period_start, period_end, actuals.as_of, params.pacing)
    masks = _masks(actuals, rate, company_rate)
    days_elapsed = max(0, min(actuals.as_of, actuals.period_end) - actuals.period_start + 1)
    frames = []
    for level in params.levels:
        g = grouping(plan, level)
        figures = _unit_figures(g, plan, actuals, masks, share, qtd_rep)
        frame = g.info.copy()
        frame.insert(0, "level", level)
        for name, values in figures.items():
            frame[name] = values
        if g.base == "account":
            extra = _unallocated_row(plan, qtd_rep)
            if extra is not None:
                frame = pd.concat([frame, pd.DataFrame([{"level": level, "unit_id": UNALLOCATED, **extra}])], ignore_index=True)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    numeric = ["bookings", "won_deals", "lost_amount", "lost_deals", "open_pipeline", "open_deals", "expected_pipeline"]
    table[numeric] = table[numeric].fillna(0.0)
    for column in ("won_deals", "lost_deals", "open_deals", "n_reps"):
        table[column] = table[column].round().astype(np.int64)
    return _ratios(table, days_elapsed, params)


def _ratios(table: pd.DataFrame, days_elapsed: int, params: MonitorParams) -> pd.DataFrame:
    quota, qtd, bookings = table["quota"], table["quota_to_date"], table["bookings"]
    table["expected_share"] = (qtd / quota.where(quota > 0)).astype(float)
    table["attainment"] = (bookings / quota.where(quota > 0)).astype(float)
    table["pacing"] = (bookings / qtd.where(qtd > 0)).astype(float)
    table["on_track"] = (table["pacing"] >= params.flags.on_track_pacing) | ((qtd <= 0) & (quota > 0))
    table["remaining_quota"] = (quota - bookings).clip(lower=0.0)
    table["win_rate"] = (table["expected_pipeline"] / table["open_pipeline"].where(table["open_pipeline"] > 0)).astype(float)
    remaining = table["remaining_quota"]
    table["coverage"] = (table["expected_pipeline"] / remaining.where(remaining > 0)).astype(float)
    expected_to_date = table["potential"] * days_elapsed / DAYS_PER_YEAR
    table["penetration"] = (bookings / expected_to_date.where(expected_to_date > 0)).astype(float)
    table["potential_per_fte"] = (table["potential"] / table["fte"].where(table["fte"] > 0)).astype(float)
    return table
