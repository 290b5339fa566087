"""Period-end forecasts of bookings and attainment, with intervals and the probability of reaching quota.

For each level of ``forecast.levels`` (reps, teams, segments, regions, the company...):

1. Weekly bookings of every unit over ``forecast.lookback_weeks`` whole weeks ending
   on as_of (``actuals.weekly_bookings``).
2. Units with at least ``forecast.min_active_weeks`` weeks with a booking get the
   state-space model of :mod:`plan_lib.monitor.statespace`: one statsmodels fit per unit
   when the level has few such units, else shared variance ratios (pooled maximum
   likelihood) and one vectorised filter for all (``method`` = ``statsmodels`` or
   ``state_space_pooled``). The remaining bookings S (the weeks left, the last one
   partial) are normal with the model's mean and variance, censored at 0 (bookings
   cannot be negative).
3. Sparser units (a new rep, a small zone with a few big deals a quarter) cannot
   support a weekly model: their forecast is a run rate (``method`` = ``run_rate``):
   deals arrive as a Poisson process whose rate is known from the deals seen
   (a Gamma(deals + 0.5, weeks) posterior: a unit with no deal yet is not certain
   to book nothing), with the unit's deal sizes (the level's when it has none). S
   is 0 with the probability of no deal, else gamma with the matching mean and
   variance (a compound-Poisson total is skewed to the right).
4. Period-end bookings = bookings to date + S; attainment interval and
   P(reaching quota) = P(S >= quota - bookings to date) follow.
5. Trend-change tests (:mod:`plan_lib.monitor.trends`) on the same weekly series.

Also returned: a long ``weekly`` table (observed weeks with the model's one-step
predictions; future weeks with the cumulative forecast and its band) for the charts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import gamma, norm

from plan_lib.monitor.actuals import Actuals, weekly_bookings, weekly_counts
from plan_lib.monitor.params import ForecastParams, MonitorParams
from plan_lib.monitor.plan import Plan
from plan_lib.monitor.statespace import (
    Filtered,
    batched_filter,
    fit_pooled,
    fit_statsmodels,
    horizon_weights,
    sum_moments,
)
from plan_lib.monitor.trends import trend_tests
from plan_lib.monitor.units import Grouping, grouping

METHOD_POOLED, METHOD_STATSMODELS, METHOD_RUN_RATE = "state_space_pooled", "statsmodels", "run_rate"


@dataclass
class ForecastResult:
    forecast: pd.DataFrame  # one row per unit of each forecast level
    weekly: pd.DataFrame  # long: level, unit_id, week_end, phase, bookings, fitted, cumulative, cumulative_lower/upper
    report: dict[str, Any] = field(default_factory=dict)


@dataclass
class Remaining:
    """Distribution of the bookings still to come, per unit.

    ``normal`` units: N(mean, var) censored at 0. ``gamma`` units (run rate): 0 with
    probability ``zero`` (no deal at all), else gamma with the conditional mean and
    variance that reproduce the overall ``mean`` and ``var``.
    """

    kind: np.ndarray  # "normal" or "gamma" per unit
    mean: np.ndarray  # normal: of the underlying normal; gamma: of the whole distribution
    var: np.ndarray
    zero: np.ndarray  # probability of exactly 0 (gamma units)

    def _normal(self) -> np.ndarray:
        return self.kind == "normal"

    def _positive_part(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gamma shape and scale of S given S > 0, and which units have one."""
        keep = 1.0 - self.zero
        ok = (keep > 1e-12) & (self.mean > 0) & (self.var > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.where(ok, self.mean / np.where(ok, keep, 1.0), 1.0)
            second = np.where(ok, (self.var + self.mean**2) / np.where(ok, keep, 1.0), 2.0)
            v = np.maximum(second - m * m, 1e-12 * m * m)
            shape = np.where(ok, m * m / v, 1.0)
            scale = np.where(ok, v / m, 1.0)
        return shape, scale, ok

    def expected(self) -> np.ndarray:
        sd = np.sqrt(self.var)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(sd > 0, self.mean / np.where(sd > 0, sd, 1.0), np.sign(self.mean) * np.inf)
            censored = np.where(sd > 0, self.mean * norm.cdf(z) + sd * norm.pdf(z), np.maximum(self.mean, 0.0))
        return np.where(self._normal(), censored, np.maximum(self.mean, 0.0))

    def quantile(self, p: float) -> np.ndarray:
        normal = np.maximum(self.mean + norm.ppf(p) * np.sqrt(self.var), 0.0)
        shape, scale, ok = self._positive_part()
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = np.clip((p - self.zero) / np.where(self.zero < 1, 1.0 - self.zero, 1.0), 0.0, 1.0)
            positive = gamma.ppf(inner, shape, scale=scale)
        g = np.where(ok, np.where(p <= self.zero, 0.0, positive), np.maximum(self.mean, 0.0))
        return np.where(self._normal(), normal, g)

    def prob_at_least(self, need: np.ndarray) -> np.ndarray:
        sd = np.sqrt(self.var)
        shape, scale, ok = self._positive_part()
        with np.errstate(divide="ignore", invalid="ignore"):
            normal = np.where(sd > 0, norm.sf((need - self.mean) / np.where(sd > 0, sd, 1.0)), (self.mean >= need).astype(float))
            g = np.where(ok, (1.0 - self.zero) * gamma.sf(need, shape, scale=scale), (self.mean >= need).astype(float))
        p = np.where(self._normal(), normal, g)
        return np.where(need <= 0, 1.0, p)


def _run_rate(count: np.ndarray, amount: np.ndarray, square: np.ndarray, weeks: int,
              horizon: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Compound Poisson over the horizon: mean, variance, probability of no deal, and the weekly rate.

    The weekly deal rate given ``count`` deals in ``weeks`` weeks is Gamma(count + 0.5, weeks)
    (Jeffreys), so the number of deals ahead is negative binomial: P(none) =
    (weeks / (weeks + h))^(count + 0.5), mean (count + 0.5) h / weeks, variance that mean
    times (1 + h / weeks). Deal sizes: the unit's (the level's when it has none).
    """
    shape = count + 0.5
    pooled_mean = amount.sum() / count.sum() if count.sum() > 0 else 0.0
    pooled_square = square.sum() / count.sum() if count.sum() > 0 else 0.0
    size = np.where(count > 0, amount / np.maximum(count, 1), pooled_mean)
    size2 = np.where(count > 0, square / np.maximum(count, 1), pooled_square)
    h = float(horizon.sum())
    deals = shape * h / weeks
    deals_var = deals * (1.0 + h / weeks)
    mean = deals * size
    var = deals * (size2 - size**2) + deals_var * size**2
    zero = (weeks / (weeks + h)) ** shape if h > 0 else np.ones_like(shape)
    return mean, var, zero, shape / weeks * size


@dataclass
class _Calendar:
    weeks: int
    week_end: np.ndarray  # day numbers, oldest first
    in_period: np.ndarray  # share of each week's days in the period
    weeks_in: np.ndarray  # weeks since the period start at mid-week
    horizon: np.ndarray  # weights of the future weeks
    future_end: np.ndarray  # day numbers of the future weeks' ends


def _calendar(actuals: Actuals, weeks: int) -> _Calendar:
    end = actuals.as_of - 7 * np.arange(weeks - 1, -1, -1)
    days = end[:, None] - np.arange(7)[None, :]
    inside = (days >= actuals.period_start) & (days <= actuals.period_end)
    days_left = max(0, actuals.period_end - max(actuals.as_of, actuals.period_start - 1))
    horizon = horizon_weights(days_left)
    future = np.minimum(actuals.as_of + 7 * np.arange(1, len(horizon) + 1), actuals.period_end)
    return _Calendar(weeks, end, inside.mean(axis=1), (end - 3 - actuals.period_start) / 7.0, horizon, future)


def _series(g: Grouping, plan: Plan, actuals: Actuals, cal: _Calendar, rep_cache: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Weekly bookings (all, and in-period only), deal counts, amounts and squared amounts per unit."""
    w = cal.weeks
    if g.base == "rep":
        if not rep_cache:
            rep_cache["Y"] = weekly_bookings(actuals, actuals.rep, plan.n_reps, w)
            rep_cache["Yin"] = weekly_bookings(actuals, actuals.rep, plan.n_reps, w, since=actuals.period_start)
            rep_cache["count"], rep_cache["square"] = weekly_counts(actuals, actuals.rep, plan.n_reps, w)
        out = {k: g.sum_by(v) for k, v in rep_cache.items()}
    else:
        codes = g.unit_of(np.maximum(actuals.account, 0))
        codes = np.where(actuals.account >= 0, codes, -1)
        out = {
            "Y": weekly_bookings(actuals, codes, g.size, w),
            "Yin": weekly_bookings(actuals, codes, g.size, w, since=actuals.period_start),
        }
        out["count"], out["square"] = weekly_counts(actuals, codes, g.size, w)
    return out


@dataclass
class SeriesModel:
    """Fitted models of a set of weekly series (one row of ``Y`` per unit)."""

    method: np.ndarray  # per unit: statsmodels / state_space_pooled / run_rate
    weekly_rate: np.ndarray  # expected bookings next week
    weekly_slope: np.ndarray  # change of the weekly rate per week (trend model, dense units)
    noise_sd: np.ndarray  # weekly observation noise (dense units)
    fitted: np.ndarray  # one-step-ahead prediction of every observed week
    info: dict[str, Any]
    _filtered: Filtered | None
    _dense: np.ndarray
    _run_rate_inputs: tuple[np.ndarray, np.ndarray, np.ndarray, int]

    def remaining(self, horizon: np.ndarray) -> Remaining:
        """Distribution of the bookings over future weeks weighted by ``horizon`` (see ``horizon_weights``)."""
        n = len(self.method)
        mean, var, zero = np.zeros(n), np.zeros(n), np.zeros(n)
        dense, sparse = self._dense, ~self._dense
        if self._filtered is not None:
            mean[dense], var[dense] = sum_moments(self._filtered, horizon)
        if sparse.any():
            count, amount, square, weeks = self._run_rate_inputs
            mean[sparse], var[sparse], zero[sparse], _ = _run_rate(count[sparse], amount[sparse], square[sparse], weeks, horizon)
        return Remaining(np.where(dense, "normal", "gamma"), mean, var, zero)


def fit_series(Y: np.ndarray, params: ForecastParams, count: np.ndarray | None = None,
               square: np.ndarray | None = None) -> SeriesModel:
    """Fit the weekly models of every row of ``Y`` (units x weeks, oldest first).

    ``count`` / ``square``: won deals and sum of squared deal amounts per unit over the
    same weeks (for the run rate of sparse units); without them each week with bookings
    counts as one deal.
    """
    n_units, weeks = Y.shape
    if count is None or square is None:
        count, square = (Y > 0).sum(axis=1).astype(float), (Y**2).sum(axis=1)
    amount = Y.sum(axis=1)
    info: dict[str, Any] = {"units": int(n_units)}
    active = (Y > 0).sum(axis=1)
    dense = active >= params.min_active_weeks
    sparse = ~dense
    method = np.full(n_units, METHOD_RUN_RATE, dtype=object)
    rate, slope, sd = np.full(n_units, np.nan), np.full(n_units, np.nan), np.full(n_units, np.nan)
    fitted = np.zeros_like(Y, dtype=float)
    filtered: Filtered | None = None
    if dense.any():
        if dense.sum() <= params.statsmodels_max_units:
            filtered, how = fit_statsmodels(Y[dense], params.trend), METHOD_STATSMODELS
        else:
            dyn, info["pooled"] = fit_pooled(Y[dense], params.trend)
            filtered, how = batched_filter(Y[dense], dyn), METHOD_POOLED
        method[dense] = how
        rate[dense] = filtered.state[:, 0]
        if filtered.state.shape[1] > 1:
            slope[dense] = filtered.state[:, 1]
        sd[dense] = np.sqrt(filtered.sigma2)
        fitted[dense] = filtered.fitted
    if sparse.any():
        r = _run_rate(count[sparse], amount[sparse], square[sparse], weeks, np.ones(1))[3]
        rate[sparse] = r
        fitted[sparse] = r[:, None]
    info["methods"] = {str(k): int(v) for k, v in pd.Series(method).value_counts().items()}
    return SeriesModel(method, rate, slope, sd, fitted, info, filtered, dense, (count, amount, square, weeks))


def _level_forecast(level: str, g: Grouping, series: dict[str, np.ndarray], figures: pd.DataFrame, cal: _Calendar,
                    params: MonitorParams) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    Y = series["Y"]
    model = fit_series(Y, params.forecast, series["count"], series["square"])
    remaining = model.remaining(cal.horizon)
    booked = figures["bookings"].to_numpy(dtype=float)
    quota = figures["quota"].to_numpy(dtype=float)
    lo_p, hi_p = (1 - params.forecast.interval) / 2, 1 - (1 - params.forecast.interval) / 2
    expected, lower, upper = remaining.expected(), remaining.quantile(lo_p), remaining.quantile(hi_p)
    safe_quota = np.where(quota > 0, quota, np.nan)
    frame = pd.DataFrame({
        "level": level,
        "unit_id": g.labels,
        "method": model.method.astype(str),
        "weeks": cal.weeks,
        "active_weeks": (Y > 0).sum(axis=1).astype(np.int64),
        "weekly_rate": model.weekly_rate,
        "weekly_slope": model.weekly_slope,
        "weekly_noise_sd": model.noise_sd,
        "booked_to_date": booked,
        "quota": quota,
        "remaining_weeks": float(cal.horizon.sum()),
        "forecast_remaining": expected,
        "forecast_bookings": booked + expected,
        "lower": booked + lower,
        "upper": booked + upper,
        "attainment_forecast": (booked + expected) / safe_quota,
        "attainment_lower": (booked + lower) / safe_quota,
        "attainment_upper": (booked + upper) / safe_quota,
        "prob_reach_quota": np.where(quota > 0, remaining.prob_at_least(quota - booked), np.nan),
    })
    tests = trend_tests(Y, cal.in_period, cal.weeks_in, params.trend)
    frame = pd.concat([frame, tests.reset_index(drop=True)], axis=1)
    bands = [model.remaining(cal.horizon[:j]) for j in range(1, len(cal.horizon) + 1)]
    weekly = _weekly_frame(level, g, series, model.fitted, bands, cal, booked, lo_p, hi_p)
    return frame, weekly, model.info


def _weekly_frame(level: str, g: Grouping, series: dict[str, np.ndarray], fitted: np.ndarray, bands: list[Remaining],
                  cal: _Calendar, booked: np.ndarray, lo_p: float, hi_p: float) -> pd.DataFrame:
    """Observed weeks (bookings, one-step prediction, period-to-date cumulative) and future weeks (band)."""
    n_units, w = series["Y"].shape
    observed = pd.DataFrame({
        "level": level,
        "unit_id": np.repeat(g.labels, w),
        "week_end": np.tile(cal.week_end, n_units),
        "phase": "observed",
        "bookings": series["Y"].ravel(),
        "fitted": fitted.ravel(),
        "cumulative": np.cumsum(series["Yin"], axis=1).ravel(),
        "cumulative_lower": np.nan,
        "cumulative_upper": np.nan,
    })
    parts = [observed]
    h = len(bands)
    if h:
        mean = np.stack([b.expected() for b in bands], axis=1)
        low = np.stack([b.quantile(lo_p) for b in bands], axis=1)
        high = np.stack([b.quantile(hi_p) for b in bands], axis=1)
        parts.append(pd.DataFrame({
            "level": level,
            "unit_id": np.repeat(g.labels, h),
            "week_end": np.tile(cal.future_end, n_units),
            "phase": "forecast",
            "bookings": np.nan,
            "fitted": np.nan,
            "cumulative": (booked[:, None] + mean).ravel(),
            "cumulative_lower": (booked[:, None] + low).ravel(),
            "cumulative_upper": (booked[:, None] + high).ravel(),
        }))
    frame = pd.concat(parts, ignore_index=True)
    frame["week_end"] = pd.to_datetime(frame["week_end"].astype("int64"), unit="D").astype("datetime64[s]")
    return frame


def forecast_units(plan: Plan, actuals: Actuals, attainment: pd.DataFrame, params: MonitorParams) -> ForecastResult:
    """Forecasts and trend tests for every unit of ``params.forecast.levels`` (see module docstring).

    ``attainment`` must hold rows for those levels (bookings to date and quota per unit).
    """
    cal = _calendar(actuals, params.forecast.lookback_weeks)
    rep_cache: dict[str, np.ndarray] = {}
    frames, weekly, report = [], [], {}
    for level in params.forecast.levels:
        g = grouping(plan, level)
        figures = attainment[attainment["level"] == level].set_index("unit_id").reindex(g.labels)[["bookings", "quota"]].fillna(0.0)
        series = _series(g, plan, actuals, cal, rep_cache)
        frame, week_frame, info = _level_forecast(level, g, series, figures, cal, params)
        frames.append(frame)
        weekly.append(week_frame)
        report[level] = info
    forecast = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return ForecastResult(forecast, pd.concat(weekly, ignore_index=True) if weekly else pd.DataFrame(), {
        "levels": report, "remaining_weeks": float(cal.horizon.sum()), "lookback_weeks": cal.weeks,
        "interval": params.forecast.interval, "trend_model": "local linear trend" if params.forecast.trend else "local level",
    })
