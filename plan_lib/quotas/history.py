"""What past periods say: last quotas (for caps), run rates (historical method), productivity.

Past bookings are divided by the ramp the rep had *in that period* (same
schedule, same day-by-day rule as the plan), so a rep hired mid-year is not
judged on their ramp months and the productivity of a segment is not dragged
down by last year's new hires.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from plan_lib.quotas.ramp import ramp_factors


@dataclass(frozen=True)
class History:
    """Past rep-periods used by the plan (at most ``history_periods`` periods before the plan period)."""

    observations: pd.DataFrame  # period, rep_id, quota, bookings, days, ramp
    last_period: str | None
    last_quota: pd.Series  # rep_id -> quota in ``last_period``
    notes: list[str] = field(default_factory=list)

    def run_rate(self) -> pd.Series:
        """Ramp-adjusted bookings per day per rep (NaN where nothing usable)."""
        obs = self.observations.dropna(subset=["bookings"])
        obs = obs[obs["ramp"] * obs["days"] > 0]  # a period before the start date says nothing
        if obs.empty:
            return pd.Series(dtype=float)
        exposure = (obs["ramp"] * obs["days"]).groupby(obs["rep_id"]).sum()
        bookings = obs["bookings"].groupby(obs["rep_id"]).sum()
        return (bookings / exposure.where(exposure > 0)).dropna()


def _bounds(label: str) -> tuple[dt.date, dt.date] | None:
    try:
        period = pd.Period(label)
    except (ValueError, TypeError):
        return None
    return period.start_time.date(), period.end_time.date()


def summarise_history(
    quota_history: pd.DataFrame | None,
    period: str,
    period_start: dt.date,
    period_end: dt.date,
    start_dates: pd.Series,
    ramp: list[float],
    history_periods: int,
) -> History:
    """Select the last ``history_periods`` periods before ``period`` and attach days and ramp to each rep-period.

    ``start_dates`` maps rep_id -> ``datetime64[D]`` (NaT = long tenured).
    Period labels are read as pandas periods (2026Q4, 2026-10, 2026); a label
    that cannot be read is taken to be as long as the plan period with no ramp.
    """
    empty = pd.DataFrame({"period": pd.Series(dtype="str"), "rep_id": pd.Series(dtype="str"),
                          "quota": pd.Series(dtype=float), "bookings": pd.Series(dtype=float),
                          "days": pd.Series(dtype=float), "ramp": pd.Series(dtype=float)})
    if quota_history is None or quota_history.empty:
        return History(empty, None, pd.Series(dtype=float), [])
    notes: list[str] = []
    frame = quota_history.copy()
    frame["period"] = frame["period"].astype(str)
    frame["rep_id"] = frame["rep_id"].astype(str)
    frame["quota"] = pd.to_numeric(frame["quota"], errors="coerce").astype(float)
    bookings = frame["bookings"] if "bookings" in frame else pd.Series(np.nan, index=frame.index)
    frame["bookings"] = pd.to_numeric(bookings, errors="coerce").astype(float)

    labels = sorted(set(frame["period"]) - {period})
    bounds = {label: _bounds(label) for label in labels}
    unreadable = [label for label, b in bounds.items() if b is None]
    plan_days = (period_end - period_start).days + 1
    if unreadable:
        notes.append(f"history periods not readable as dates ({', '.join(unreadable[:5])}): taken as "
                     f"{plan_days}-day periods without ramp, ordered by their labels")
        past = [label for label in labels if label < period]
    else:
        known = {label: b for label, b in bounds.items() if b is not None}
        past = sorted((label for label in labels if known[label][1] < period_start), key=lambda lb: known[lb][0])
    past = past[-history_periods:]
    if not past:
        return History(empty, None, pd.Series(dtype=float), notes)

    frame = frame[frame["period"].isin(past)].copy()
    frame["days"] = float(plan_days)
    frame["ramp"] = 1.0
    for label, rows in frame.groupby("period").groups.items():
        b = bounds.get(label)
        if b is None:
            continue
        starts = start_dates.reindex(frame.loc[rows, "rep_id"]).to_numpy(dtype="datetime64[D]")
        frame.loc[rows, "days"] = float((b[1] - b[0]).days + 1)
        frame.loc[rows, "ramp"] = ramp_factors(starts, b[0], b[1], ramp)
    last = past[-1]
    last_quota = frame.loc[frame["period"] == last].set_index("rep_id")["quota"]
    observations = frame[["period", "rep_id", "quota", "bookings", "days", "ramp"]].reset_index(drop=True)
    return History(observations, last, last_quota, notes)
