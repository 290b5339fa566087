r"""Has a unit's bookings trend changed since the period started? Tested for thousands of units at once.

For each unit, weekly bookings :math:`y_t` over the lookback follow a quasi-Poisson
log-linear model (a GLM: log link, variance proportional to the mean, dispersion
estimated from the data, which absorbs lumpy deal sizes):

.. math::
    \log E[y_t] = b_0 + b_1 x_t + b_2 x_t (\tau_t - \bar\tau)

where :math:`x_t` is the share of week t's days inside the period (0 before, 1
inside, a fraction for the week that straddles the start) and :math:`\tau_t` the
weeks since the period start. So :math:`e^{b_0}` is the baseline weekly rate before
the period, :math:`e^{b_1}-1` the change of the rate inside the period (a level
change: running ahead or behind history) and :math:`e^{b_2}-1` the change per week
inside the period (accelerating or fading).

Significance: nested models compared by the quasi-likelihood F test
(deviance drop / dispersion of the largest model, F(1, n - p)): level = model 1 vs
the constant, slope = model 2 vs model 1. The p-values of a level are adjusted
together (Benjamini-Hochberg, ``statsmodels.stats.multitest``), so with 2,000 reps
a 5% false discovery rate means about 5% of the flags are noise, not 100 flags of
pure noise. A flag also needs a change big enough to matter
(``trend.min_level_change``, ``trend.min_weekly_slope``).

The fit is iteratively reweighted least squares on all units at once (the design
matrix is common to all units; only weights differ), the same estimates as
``statsmodels`` GLM(Poisson, scale='X2') unit by unit (checked in the tests).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import f as f_dist
from statsmodels.stats.multitest import multipletests

from plan_lib.monitor.params import TrendParams

ETA_BOUNDS = (-40.0, 40.0)


def poisson_irls(Y: np.ndarray, X: np.ndarray, iterations: int = 60, tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson log-linear fit of every row of ``Y`` on the common design ``X`` (weeks x p).

    Returns coefficients (units x p), deviance and Pearson chi-square per unit. Rows
    summing to zero are left with NaN (nothing to fit).
    """
    n_units, n = Y.shape
    p = X.shape[1]
    beta = np.full((n_units, p), np.nan)
    ok = Y.sum(axis=1) > 0
    Yo = Y[ok]
    b = np.zeros((len(Yo), p))
    b[:, 0] = np.log(Yo.mean(axis=1))
    ridge = 1e-10 * np.eye(p)
    for _ in range(iterations):
        eta = np.clip(b @ X.T, *ETA_BOUNDS)
        mu = np.exp(eta)
        z = eta + (Yo - mu) / mu
        A = np.einsum("tp,nt,tq->npq", X, mu, X) + ridge * mu.mean(axis=1)[:, None, None]
        rhs = np.einsum("tp,nt->np", X, mu * z)
        new = np.linalg.solve(A, rhs[..., None])[..., 0]
        step = np.abs(new - b).max()
        b = new
        if step < tol:
            break
    beta[ok] = b
    mu = np.exp(np.clip(b @ X.T, *ETA_BOUNDS))
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(Yo > 0, Yo * np.log(Yo / mu), 0.0) - (Yo - mu)
    deviance = np.full(n_units, np.nan)
    pearson = np.full(n_units, np.nan)
    deviance[ok] = 2.0 * term.sum(axis=1)
    pearson[ok] = ((Yo - mu) ** 2 / mu).sum(axis=1)
    return beta, deviance, pearson


def trend_tests(Y: np.ndarray, in_period: np.ndarray, weeks_in: np.ndarray, params: TrendParams) -> pd.DataFrame:
    """Level and slope change tests for every row of ``Y`` (units x weeks, oldest first).

    ``in_period``: share of each week's days inside the period; ``weeks_in``: weeks since
    the period start at each week's middle. Columns: baseline_weekly, period_weekly,
    level_change, level_f, level_p, level_q, period_slope, slope_f, slope_p, slope_q, trend, level_flag, slope_flag.
    """
    n_units, n = Y.shape
    period_weeks = float(in_period.sum())
    out = pd.DataFrame(index=range(n_units))
    for column in ("baseline_weekly", "period_weekly", "level_change", "level_f", "level_p", "level_q",
                   "period_slope", "slope_f", "slope_p", "slope_q"):
        out[column] = np.nan
    out["trend"] = ""
    out["level_flag"] = ""
    out["slope_flag"] = ""
    baseline_weeks = float((1 - in_period).sum())
    if period_weeks < params.min_period_weeks or baseline_weeks < params.min_period_weeks or n_units == 0:
        return out
    ones = np.ones(n)
    X0 = ones[:, None]
    X1 = np.c_[ones, in_period]
    tau = np.where(in_period > 0, weeks_in - np.average(weeks_in, weights=np.maximum(in_period, 1e-12)), 0.0)
    with_slope = period_weeks >= 2 * params.min_period_weeks
    _, d0, _ = poisson_irls(Y, X0)
    b1, d1, pearson1 = poisson_irls(Y, X1)
    if with_slope:
        X2 = np.c_[ones, in_period, in_period * tau]
        b2, d2, pearson2 = poisson_irls(Y, X2)
        df_resid = n - 3
        dispersion = pearson2 / df_resid
    else:
        df_resid = n - 2
        dispersion = pearson1 / df_resid
    dispersion = np.where(dispersion > 0, dispersion, np.nan)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out["baseline_weekly"] = np.exp(b1[:, 0])
        out["period_weekly"] = np.exp(b1[:, 0] + b1[:, 1])
        out["level_change"] = np.expm1(b1[:, 1])
        level_f = np.maximum(d0 - d1, 0.0) / dispersion
        out["level_f"] = level_f
        out["level_p"] = f_dist.sf(level_f, 1, df_resid)
        if with_slope:
            slope_f = np.maximum(d1 - d2, 0.0) / dispersion
            out["period_slope"] = np.expm1(b2[:, 2])
            out["slope_f"] = slope_f
            out["slope_p"] = f_dist.sf(slope_f, 1, df_resid)
    # a unit without a baseline (a new rep, a new zone) has no trend to change: a test would
    # compare with nothing (an infinite "change"); likewise a slope needs bookings inside the period
    active_before = ((Y > 0) & (in_period[None, :] < 1)).sum(axis=1)
    active_inside = ((Y > 0) & (in_period[None, :] > 0)).sum(axis=1)
    no_baseline = active_before < params.min_period_weeks
    out.loc[no_baseline, ["baseline_weekly", "period_weekly", "level_change", "level_f", "level_p"]] = np.nan
    out.loc[no_baseline | (active_inside < params.min_period_weeks),
            ["period_slope", "slope_f", "slope_p"]] = np.nan
    pvals = np.r_[out["level_p"].to_numpy(), out["slope_p"].to_numpy()]
    tested = np.isfinite(pvals)
    qvals = np.full(len(pvals), np.nan)
    if tested.any():
        qvals[tested] = multipletests(pvals[tested], alpha=params.alpha, method="fdr_bh")[1]
    out["level_q"], out["slope_q"] = qvals[:n_units], qvals[n_units:]
    up_level = (out["level_q"] < params.alpha) & (out["level_change"] >= params.min_level_change)
    down_level = (out["level_q"] < params.alpha) & (out["level_change"] <= -params.min_level_change / (1 + params.min_level_change))
    up_slope = (out["slope_q"] < params.alpha) & (out["period_slope"] >= params.min_weekly_slope)
    down_slope = (out["slope_q"] < params.alpha) & (out["period_slope"] <= -params.min_weekly_slope)
    up, down = up_level | up_slope, down_level | down_slope
    out["trend"] = np.where(up & down, "mixed", np.where(up, "up", np.where(down, "down", "")))
    out["level_flag"] = np.where(up_level, "up", np.where(down_level, "down", ""))
    out["slope_flag"] = np.where(up_slope, "up", np.where(down_slope, "down", ""))
    return out
