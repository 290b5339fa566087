"""Actuals: the state of every opportunity as of a day, bookings, pipeline and win rates.

The opportunities table is an extract taken on some later day; monitoring "as
of" an earlier day replays it: an opportunity created after ``as_of`` did not
exist yet; one won or lost after ``as_of`` was still open then (its close date
and outcome were not known). Only won/lost stages closed on or before
``as_of`` keep their stage. This makes a run for any past day reproducible
from the latest extract, and keeps tomorrow's outcomes out of today's numbers.

Bookings to date are the won amounts closed between the period start and
``as_of``; pipeline is what was open at the end of ``as_of``. Everything is kept
as integer day numbers and parallel numpy arrays so that 5 million
opportunities take seconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from plan_lib.errors import InputError
from plan_lib.monitor.plan import Plan, lookup

OPEN, WON, LOST = 0, 1, 2
STAGES = ("open", "won", "lost")
#: Day number standing for "no date" (never inside any window).
NO_DAY = np.iinfo(np.int64).max // 2


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01 (the unit of every date array here)."""
    return int((day - dt.date(1970, 1, 1)).days)


def _days(values: pd.Series) -> np.ndarray:
    raw = pd.to_datetime(values, errors="coerce").to_numpy("datetime64[D]")
    out = raw.astype(np.int64)
    out[np.isnat(raw)] = NO_DAY
    return out


def _stage_codes(stage: pd.Series) -> np.ndarray:
    """Index into STAGES (-1 unknown), case and surrounding spaces ignored; Arrow kernels (5M rows in well under a second)."""
    arr = pa.array(stage, type=pa.string(), from_pandas=True)
    arr = pc.utf8_lower(pc.utf8_trim_whitespace(arr))
    return pc.index_in(arr, value_set=pa.array(list(STAGES))).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int8)


def opportunities_as_of(opportunities: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The opportunities as they stood at the end of ``as_of``: later ones dropped, later closes open again.

    Same columns as the input; ``stage`` and ``close_date`` are those known on ``as_of``
    (an open opportunity keeps an expected close date if the source gives one).
    """
    for column in ("created_date", "stage"):
        if column not in opportunities.columns:
            raise InputError("opportunities", "missing column", column=column, fix="see the data contract in the README")
    day = day_number(as_of)
    created = _days(opportunities["created_date"])
    close = _days(opportunities["close_date"]) if "close_date" in opportunities else np.full(len(opportunities), NO_DAY)
    stage = _stage_codes(opportunities["stage"])
    exists = created <= day
    closed = np.isin(stage, (WON, LOST)) & (close <= day)
    out = opportunities.loc[exists].copy()
    reopened = ~closed[exists] & np.isin(stage[exists], (WON, LOST))
    out.loc[reopened, "stage"] = "open"
    if "close_date" in out.columns:
        out.loc[reopened, "close_date"] = pd.NaT
    return out.reset_index(drop=True)


@dataclass
class Actuals:
    """Opportunities as of a day, aligned to the plan (one entry per existing opportunity)."""

    account: np.ndarray  # plan account index, -1 outside the plan
    rep: np.ndarray  # credited plan rep index, -1 when nobody in the plan gets the credit
    created: np.ndarray  # day numbers
    close: np.ndarray  # day numbers; NO_DAY while open as of
    stage: np.ndarray  # OPEN / WON / LOST as of
    amount: np.ndarray
    as_of: int
    period_start: int
    period_end: int
    notes: list[str] = field(default_factory=list)

    @property
    def won_in_period(self) -> np.ndarray:
        return (self.stage == WON) & (self.close >= self.period_start) & (self.close <= min(self.as_of, self.period_end))

    @property
    def lost_in_period(self) -> np.ndarray:
        return (self.stage == LOST) & (self.close >= self.period_start) & (self.close <= min(self.as_of, self.period_end))

    @property
    def open_now(self) -> np.ndarray:
        return self.stage == OPEN

    def closed_within(self, days: int) -> np.ndarray:
        """Won or lost in the ``days`` days ending on as_of."""
        return (self.stage != OPEN) & (self.close > self.as_of - days) & (self.close <= self.as_of)


def actuals_as_of(
    opportunities: pd.DataFrame,
    plan: Plan,
    as_of: dt.date,
    period_start: dt.date,
    period_end: dt.date,
    credit: str = "assignment",
) -> Actuals:
    """Replay the extract on ``as_of`` and attach each opportunity to the plan.

    ``credit='assignment'``: a booking counts for the rep holding the account in the
    plan (the book's history predicts the book's future, whoever owned it then);
    ``credit='owner'``: for the opportunity's owner_rep_id when that rep is in the plan.
    """
    for column in ("account_id", "created_date", "stage", "amount"):
        if column not in opportunities.columns:
            raise InputError("opportunities", "missing column", column=column, fix="see the data contract in the README")
    day = day_number(as_of)
    created = _days(opportunities["created_date"])
    close = _days(opportunities["close_date"]) if "close_date" in opportunities else np.full(len(opportunities), NO_DAY)
    stage = _stage_codes(opportunities["stage"])
    notes: list[str] = []
    exists = created <= day
    if (exists & (stage < 0)).any():
        notes.append(f"{int((exists & (stage < 0)).sum())} opportunities with an unknown stage were ignored")
    closed = np.isin(stage, (WON, LOST)) & (close <= day)
    stage = np.where(closed, stage, np.where(stage >= 0, OPEN, -1)).astype(np.int8)
    close = np.where(closed, close, NO_DAY)
    amount = pd.to_numeric(opportunities["amount"], errors="coerce").to_numpy(dtype=float)
    if np.isnan(amount[exists]).any():
        notes.append(f"{int(np.isnan(amount[exists]).sum())} opportunities without an amount count as 0")
    amount = np.nan_to_num(amount, nan=0.0)
    account = lookup(opportunities["account_id"], plan.accounts["account_id"])
    if credit == "owner":
        owner = opportunities["owner_rep_id"] if "owner_rep_id" in opportunities else pd.Series([None] * len(opportunities))
        rep = lookup(owner, plan.reps["rep_id"])
    else:
        holder = plan.accounts["rep"].to_numpy()
        rep = np.where(account >= 0, holder[np.maximum(account, 0)], -1)
    keep = exists & (stage >= 0)
    result = Actuals(
        account=account[keep], rep=rep[keep], created=created[keep], close=close[keep], stage=stage[keep],
        amount=amount[keep], as_of=day, period_start=day_number(period_start), period_end=day_number(period_end), notes=notes,
    )
    outside = result.won_in_period & (result.account < 0)
    if outside.any():
        notes.append(f"{int(outside.sum())} bookings to date ({result.amount[outside].sum():,.0f}) are on accounts outside "
                     "the plan: left out of attainment")
    uncredited = result.won_in_period & (result.rep < 0) & (result.account >= 0)
    if uncredited.any():
        notes.append(f"{int(uncredited.sum())} bookings to date ({result.amount[uncredited].sum():,.0f}) credit nobody "
                     f"in the plan (credit rule '{credit}'): counted at account levels only")
    return result


def win_rates(actuals: Actuals, plan: Plan, days: int, prior_deals: float) -> tuple[np.ndarray, float]:
    """Amount-weighted win rate per plan rep, shrunk toward the rep's segment, and the company rate.

    rate = (won amount + m x segment rate) / (closed amount + m), with m = ``prior_deals``
    x the company's mean closed deal size: a rep with few closed deals gets mostly the
    segment's rate, one with many gets their own. Amount-weighted because coverage
    multiplies open amounts: a rep who wins small deals and loses big ones converts
    pipeline worse than their count rate says.
    """
    closed = actuals.closed_within(days) & (actuals.rep >= 0)
    won = closed & (actuals.stage == WON)
    n = plan.n_reps
    closed_amount = np.bincount(actuals.rep[closed], weights=actuals.amount[closed], minlength=n)
    won_amount = np.bincount(actuals.rep[won], weights=actuals.amount[won], minlength=n)
    total_closed = float(closed_amount.sum())
    company = float(won_amount.sum() / total_closed) if total_closed > 0 else 0.0
    segment = pd.Series(plan.reps["segment"].to_numpy())
    seg_rate = (pd.Series(won_amount).groupby(segment).transform("sum")
                / pd.Series(closed_amount).groupby(segment).transform("sum").replace(0.0, np.nan)).fillna(company).to_numpy()
    mean_deal = total_closed / max(int(closed.sum()), 1)
    m = prior_deals * mean_deal
    rate = (won_amount + m * seg_rate) / np.maximum(closed_amount + m, 1e-12)
    rate = np.where(closed_amount + m > 0, rate, company)
    return rate, company


def weekly_bookings(actuals: Actuals, codes: np.ndarray, n_units: int, n_weeks: int, since: int | None = None) -> np.ndarray:
    """Won amounts per unit and week (units x weeks, oldest week first).

    Week ``n_weeks - 1`` is the seven days ending on as_of, week ``n_weeks - 2`` the seven
    before, and so on: every week is whole, so the forecast never extrapolates from a
    partial week. ``codes``: the unit of each opportunity (-1 = none); ``since``: only
    bookings closed on or after this day number (the period start, for period-to-date sums).
    """
    age = (actuals.as_of - actuals.close) // 7
    ok = (actuals.stage == WON) & (actuals.close <= actuals.as_of) & (age < n_weeks) & (age >= 0) & (codes >= 0)
    if since is not None:
        ok &= actuals.close >= since
    flat = codes[ok] * n_weeks + (n_weeks - 1 - age[ok])
    return np.bincount(flat, weights=actuals.amount[ok], minlength=n_units * n_weeks).reshape(n_units, n_weeks)


def weekly_counts(actuals: Actuals, codes: np.ndarray, n_units: int, n_weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """Per unit over the same weeks: number of won deals and the sum of squared amounts (for run rates)."""
    age = (actuals.as_of - actuals.close) // 7
    ok = (actuals.stage == WON) & (actuals.close <= actuals.as_of) & (age < n_weeks) & (age >= 0) & (codes >= 0)
    count = np.bincount(codes[ok], minlength=n_units).astype(float)
    square = np.bincount(codes[ok], weights=actuals.amount[ok] ** 2, minlength=n_units)
    return count, square
