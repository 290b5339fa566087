"""Split each rep's period quota into calendar months or quarters.

The split of rep ``i`` over sub-periods ``k`` is proportional to
``sum over days d in k of weight(unit of d) / days_in_unit(d) x ramp_i(d)``:
the seasonal weight of the calendar month (or quarter), spread evenly over its
days (so a period starting mid-month gets a partial month), times the rep's
ramp on each day (a new hire's quota lands in the months they are productive).
Each split is rounded to the quota granularity and sums exactly to the quota.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from plan_lib.quotas.params import SeasonalityParams
from plan_lib.quotas.rounding import round_to_grid


@dataclass(frozen=True)
class SubPeriods:
    """Sub-periods of the plan period: labels (m1, m2... or q1...), calendar names, and each day's sub-period."""

    labels: list[str]
    names: list[str]
    day_unit: np.ndarray  # index of the sub-period of each day of the period


def sub_periods(days: np.ndarray, params: SeasonalityParams) -> SubPeriods:
    months = days.astype("datetime64[M]")
    if params.granularity == "month":
        units = months
        names = [str(m) for m in np.unique(units)]
    else:
        month_number = months.astype(np.int64)  # months since 1970-01
        units = month_number // 3
        names = [f"{u // 4 + 1970}Q{u % 4 + 1}" for u in np.unique(units)]
    _, day_unit = np.unique(units, return_inverse=True)
    prefix = "m" if params.granularity == "month" else "q"
    labels = [f"{prefix}{k + 1}" for k in range(len(names))]
    return SubPeriods(labels, names, day_unit)


def day_weights(days: np.ndarray, params: SeasonalityParams) -> np.ndarray:
    """Seasonal weight of each day: its calendar unit's weight divided by the unit's length in days."""
    months = days.astype("datetime64[M]")
    month_of_year = months.astype(np.int64) % 12
    if params.weights is None:
        return np.ones(len(days))
    if params.granularity == "month":
        length = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(float)
        return np.asarray(params.weights, dtype=float)[month_of_year] / length * 30.4375
    quarter_start = (months.astype(np.int64) // 3 * 3).astype("datetime64[M]")
    length = ((quarter_start + 3).astype("datetime64[D]") - quarter_start.astype("datetime64[D]")).astype(float)
    return np.asarray(params.weights, dtype=float)[month_of_year // 3] / length * 91.3125


def seasonal_split(quota: np.ndarray, profile: np.ndarray, days: np.ndarray, params: SeasonalityParams,
                   step: float | None) -> tuple[SubPeriods, np.ndarray]:
    """Quota per rep and sub-period (reps x sub-periods); rows sum exactly to ``quota``."""
    units = sub_periods(days, params)
    per_day = profile * day_weights(days, params)[None, :]
    flat = np.broadcast_to(day_weights(days, params)[None, :], per_day.shape)
    per_day = np.where(per_day.sum(axis=1, keepdims=True) > 0, per_day, flat)  # quota without ramp days: adjusted
    n_units = len(units.labels)
    mass = np.zeros((len(quota), n_units))
    for k in range(n_units):
        mass[:, k] = per_day[:, units.day_unit == k].sum(axis=1)
    shares = mass / np.maximum(mass.sum(axis=1, keepdims=True), 1e-300)
    split = shares * np.asarray(quota, dtype=float)[:, None]
    if step:
        for i in range(len(quota)):
            split[i] = round_to_grid(split[i], step, total=float(quota[i]), lower=np.zeros(n_units)).values
    return units, split


def long_format(rep_ids: pd.Series, units: SubPeriods, split: np.ndarray) -> pd.DataFrame:
    """One row per rep and sub-period, for exports and monitoring."""
    n = len(rep_ids)
    return pd.DataFrame({
        "rep_id": np.repeat(rep_ids.astype(str).to_numpy(), len(units.labels)),
        "subperiod": np.tile(units.labels, n),
        "calendar": np.tile(units.names, n),
        "quota": split.reshape(-1),
    }).astype({"rep_id": "str", "subperiod": "str", "calendar": "str"})
