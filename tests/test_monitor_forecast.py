"""Weekly models: the vectorised filter is statsmodels' filter, forecasts cover the truth at their stated
rate on series with a known trend, sparse series fall back to a run rate, trend tests find planted changes."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.genmod.families import Poisson
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tsa.statespace.structural import UnobservedComponents

from plan_lib.monitor.forecast import METHOD_POOLED, METHOD_RUN_RATE, METHOD_STATSMODELS, fit_series
from plan_lib.monitor.params import ForecastParams, TrendParams
from plan_lib.monitor.statespace import (
    KAPPA,
    Dynamics,
    batched_filter,
    horizon_weights,
    sum_moments,
)
from plan_lib.monitor.trends import poisson_irls, trend_tests

WEEKS, AHEAD = 39, 7


def compound_poisson(seed: int, n: int, weeks: int, ahead: int, slope: tuple[float, float], deals: float = 3.0,
                     size: float = 1e4) -> tuple[np.ndarray, np.ndarray]:
    """Weekly bookings: Poisson deals at a rate with a known linear trend, lognormal amounts.
    Returns the observed weeks and the realised total of the next ``ahead`` weeks (the truth)."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks + ahead) - weeks
    g = rng.uniform(*slope, n)
    rate = deals * np.clip(1 + g[:, None] * t[None, :], 0.05, None)
    count = rng.poisson(rate)
    amounts = rng.lognormal(np.log(size) - 0.18, 0.6, int(count.sum()))
    owner = np.repeat(np.arange(count.size), count.ravel())
    total = np.bincount(owner, weights=amounts, minlength=count.size).reshape(count.shape)
    return total[:, :weeks], total[:, weeks:].sum(axis=1)


@pytest.mark.parametrize("trend", [True, False])
def test_batched_filter_matches_statsmodels(trend):
    rng = np.random.default_rng(3)
    Y = np.cumsum(rng.normal(0, 0.3, (4, 30)), axis=1) + 5 + rng.normal(0, 1, (4, 30))
    dyn = Dynamics(trend, 0.05, 0.002 if trend else 0.0)
    ours = batched_filter(Y, dyn)
    m = dyn.m
    for i in range(len(Y)):
        s2 = ours.sigma2[i]
        model = UnobservedComponents(Y[i], level="lltrend" if trend else "llevel")
        model.ssm.initialize_known(np.zeros(m), KAPPA * s2 * np.eye(m))
        model.loglikelihood_burn = m
        params = [s2, dyn.q_level * s2] + ([dyn.q_slope * s2] if trend else [])
        theirs = model.filter(params)
        assert ours.state[i] == pytest.approx(theirs.predicted_state[:, -1], rel=1e-6)
        assert ours.cov[i] == pytest.approx(theirs.predicted_state_cov[:, :, -1], rel=1e-5)
        assert ours.loglik[i] == pytest.approx(theirs.llf, rel=1e-8)
        # and the concentrated sigma2 is statsmodels' maximum: a different scale fits worse
        worse = model.filter([1.3 * p for p in params])
        assert worse.llf < theirs.llf


def test_sum_moments_of_a_known_state():
    f = batched_filter(np.ones((1, 10)), Dynamics(False, 0.0))
    f.state[:] = 5.0
    f.cov[:] = 0.0
    f.sigma2[:] = 2.0
    mean, var = sum_moments(f, horizon_weights(17))  # two whole weeks and 3/7 of a third
    assert mean[0] == pytest.approx(5.0 * (2 + 3 / 7))
    assert var[0] == pytest.approx(2.0 * (2 + (3 / 7) ** 2))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pooled_forecast_covers_the_truth_at_its_stated_rate(seed):
    observed, truth = compound_poisson(seed, 200, WEEKS, AHEAD, slope=(-0.02, 0.03))
    model = fit_series(observed, ForecastParams())
    assert set(model.method) == {METHOD_POOLED}
    remaining = model.remaining(horizon_weights(7 * AHEAD))
    low, high = remaining.quantile(0.1), remaining.quantile(0.9)
    coverage = np.mean((truth >= low) & (truth <= high))
    assert 0.7 <= coverage <= 0.9  # an 80% interval: neither too narrow nor uselessly wide
    bias = np.mean(remaining.expected() - truth) / np.mean(truth)
    assert abs(bias) < 0.05


def test_statsmodels_fits_small_levels_and_covers():
    observed, truth = compound_poisson(7, 40, WEEKS, AHEAD, slope=(-0.02, 0.03))
    model = fit_series(observed, ForecastParams(statsmodels_max_units=40, trend=False))  # local level: faster fits
    assert set(model.method) == {METHOD_STATSMODELS}
    remaining = model.remaining(horizon_weights(7 * AHEAD))
    coverage = np.mean((truth >= remaining.quantile(0.1)) & (truth <= remaining.quantile(0.9)))
    assert 0.65 <= coverage <= 0.95  # 40 units: the sampling error of a coverage rate is about 0.06


def test_sparse_units_get_a_run_rate_with_an_interval():
    observed, truth = compound_poisson(11, 300, WEEKS, 13, slope=(0.0, 0.0), deals=0.1)
    model = fit_series(observed, ForecastParams())
    sparse = (observed > 0).sum(axis=1) < ForecastParams().min_active_weeks
    assert sparse.mean() > 0.9 and set(model.method[sparse]) == {METHOD_RUN_RATE}
    remaining = model.remaining(horizon_weights(7 * 13))
    low, high = remaining.quantile(0.1), remaining.quantile(0.9)
    coverage = np.mean(((truth >= low) & (truth <= high))[sparse])
    assert 0.7 <= coverage <= 0.95
    # a unit with no deal at all is not certain to book nothing
    empty = observed.sum(axis=1) == 0
    assert empty.any() and (remaining.prob_at_least(np.full(len(truth), 1.0))[empty] > 0).all()


def test_probability_of_reaching_quota_is_monotone_and_bounded():
    observed, _ = compound_poisson(4, 50, WEEKS, AHEAD, slope=(0.0, 0.0))
    remaining = fit_series(observed, ForecastParams()).remaining(horizon_weights(7 * AHEAD))
    mean = remaining.expected()
    p_low, p_mid, p_high = (remaining.prob_at_least(f * mean) for f in (0.5, 1.0, 1.5))
    assert (p_low > p_mid).all() and (p_mid > p_high).all()
    assert np.all((p_mid > 0.35) & (p_mid < 0.65))  # the expected value is near the middle of the distribution
    assert (remaining.prob_at_least(np.zeros(50)) == 1.0).all()


def test_irls_matches_statsmodels_glm():
    rng = np.random.default_rng(5)
    n = 30
    x = np.r_[np.zeros(20), np.ones(10)]
    X = np.c_[np.ones(n), x, x * (np.arange(n) - 24.5)]
    Y = rng.gamma(1.0, 5e3, (3, n)) * (rng.random((3, n)) < 0.6)
    beta, deviance, pearson = poisson_irls(Y, X)
    for i in range(3):
        ref = GLM(Y[i], X, family=Poisson()).fit(scale="X2")
        assert beta[i] == pytest.approx(ref.params, rel=1e-6, abs=1e-8)
        assert deviance[i] == pytest.approx(ref.deviance, rel=1e-6)
        assert pearson[i] == pytest.approx(ref.pearson_chi2, rel=1e-6)


def _period_calendar(weeks: int, period_weeks: int) -> tuple[np.ndarray, np.ndarray]:
    in_period = np.r_[np.zeros(weeks - period_weeks), np.ones(period_weeks)]
    weeks_in = np.arange(weeks) - (weeks - period_weeks) + 0.5
    return in_period, weeks_in


def test_trend_tests_find_planted_changes_and_stay_quiet_otherwise():
    rng = np.random.default_rng(8)
    n_units, weeks, period = 200, 39, 8
    in_period, weeks_in = _period_calendar(weeks, period)
    factor = np.ones(n_units)
    factor[:20], factor[20:40] = 2.5, 0.3  # 20 units jump up, 20 fall, 160 unchanged
    rate = 4.0 * np.where(in_period[None, :] > 0, factor[:, None], 1.0)
    count = rng.poisson(rate)
    Y = np.array([[rng.lognormal(8.0, 0.5, c).sum() for c in row] for row in count])
    tests = trend_tests(Y, in_period, weeks_in, TrendParams())
    assert (tests["level_flag"].iloc[:20] == "up").mean() >= 0.8
    assert (tests["level_flag"].iloc[20:40] == "down").mean() >= 0.8
    assert (tests["level_flag"].iloc[40:] != "").mean() <= 0.05
    up = tests.iloc[0]
    assert up["level_change"] == pytest.approx(1.5, abs=0.6) and up["level_q"] < 0.05


def test_trend_tests_wait_for_enough_period_weeks():
    Y = np.random.default_rng(1).gamma(2.0, 1e3, (5, 20))
    in_period, weeks_in = _period_calendar(20, 1)
    tests = trend_tests(Y, in_period, weeks_in, TrendParams(min_period_weeks=2))
    assert tests["level_p"].isna().all() and (tests["trend"] == "").all()
