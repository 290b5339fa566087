"""Day-by-day ramp of new hires and pro-rating of open headcount within a period.

A daily profile (rep x day) is the single source for three numbers that must
agree: the period ramp factor that scales a rep's ideal quota, the monthly
seasonal split (a new hire's quota lands in the months they are productive),
and the ramped FTE of the capacity check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd


def period_days(start: dt.date, end: dt.date) -> np.ndarray:
    """Every day of the period, inclusive, as ``datetime64[D]``."""
    if end < start:
        raise ValueError(f"period end {end} is before its start {start}")
    return np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)


def to_day_array(values: Sequence | pd.Series) -> np.ndarray:
    """Dates in any form the ingest step may produce (date, Timestamp, ISO text, empty) -> ``datetime64[D]`` (NaT if empty)."""
    series = pd.to_datetime(pd.Series(list(values), dtype=object), errors="coerce")
    return series.to_numpy(dtype="datetime64[D]")


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    months = days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def ramp_profile(start_dates: np.ndarray, days: np.ndarray, schedule: Sequence[float]) -> np.ndarray:
    """Productivity factor of each rep on each day (reps x days).

    Day ``d`` is in ramp month ``k`` (1-based) when ``k - 1`` whole calendar months
    have elapsed since the start date, so a rep starting on the 15th changes
    factor on the 15th of each month. Before the start the factor is 0 (open
    headcount is pro-rated from its planned start); a missing start date means
    a long-tenured, fully ramped rep.
    """
    schedule_arr = np.asarray(schedule, dtype=float)
    starts = np.asarray(start_dates, dtype="datetime64[D]")
    known = ~np.isnat(starts)
    safe_starts = np.where(known, starts, days[0])
    sy, sm, sd = (a[:, None] for a in _ymd(safe_starts))
    dy, dm, dd = (a[None, :] for a in _ymd(days))
    elapsed = (dy - sy) * 12 + (dm - sm) - (dd < sd).astype(np.int64)
    factor = schedule_arr[np.clip(elapsed, 0, len(schedule_arr) - 1)]
    factor = np.where(days[None, :] < safe_starts[:, None], 0.0, factor)
    factor[~known, :] = schedule_arr[-1]
    return factor


def ramp_factors(start_dates: np.ndarray, start: dt.date, end: dt.date, schedule: Sequence[float]) -> np.ndarray:
    """Average daily factor over the period: the share of a fully ramped rep's period each rep delivers."""
    days = period_days(start, end)
    if len(start_dates) == 0:
        return np.zeros(0)
    return ramp_profile(start_dates, days, schedule).mean(axis=1)
