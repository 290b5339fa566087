r"""Weekly bookings as a structural state-space model, for one unit or for thousands at once.

The model (a local linear trend; with ``trend=False`` a local level, the state-space
form of simple exponential smoothing), for the weekly bookings :math:`y_t` of a unit:

.. math::
    y_t = \mu_t + \varepsilon_t, \quad \mu_{t+1} = \mu_t + \beta_t + \eta_t, \quad \beta_{t+1} = \beta_t + \zeta_t

with :math:`\varepsilon \sim N(0, \sigma^2)`, :math:`\eta \sim N(0, q_\mu \sigma^2)`,
:math:`\zeta \sim N(0, q_\beta \sigma^2)`: the level and the slope wander, and the
ratios :math:`q` say how fast compared with the week-to-week noise.

Two ways to fit it:

- :func:`fit_statsmodels`: one ``statsmodels`` ``UnobservedComponents`` fit per unit
  (its own variances, maximum likelihood). About 40 ms a unit: right for a handful of
  aggregate units (segments, regions, the company), too slow for 2,000 reps.
- :func:`fit_pooled` + :func:`batched_filter`: all units of a level share the ratios
  :math:`q` and keep their own :math:`\sigma^2`, level and slope. With shared ratios
  the Kalman gains and state variances (in units of :math:`\sigma^2`) do not depend on
  the data, so one recursion over the weeks filters every unit at once (numpy, a few
  milliseconds for 2,000 reps), :math:`\sigma^2` is concentrated out per unit, and the
  ratios are estimated by maximising the summed likelihood (scipy, ~100 passes).
  Pooling is also what sparse weekly data needs: one rep's 39 weeks cannot tell a
  moving level from noise, 2,000 reps together can. The recursion is the same
  filter statsmodels runs (``tests/test_monitor_forecast.py`` checks states and
  likelihood against ``UnobservedComponents`` with the same parameters).

Both use an approximate diffuse start (prior variance ``KAPPA`` in units of
:math:`\sigma^2`, first ``m`` weeks left out of the likelihood, as statsmodels does).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

KAPPA = 1e6
LOG_RATIO_BOUNDS = (-14.0, 3.0)


@dataclass(frozen=True)
class Dynamics:
    """Which model and its variance ratios (level and slope disturbance over observation noise)."""

    trend: bool
    q_level: float
    q_slope: float = 0.0

    @property
    def m(self) -> int:
        return 2 if self.trend else 1

    @property
    def transition(self) -> np.ndarray:
        return np.array([[1.0, 1.0], [0.0, 1.0]]) if self.trend else np.array([[1.0]])

    @property
    def state_cov(self) -> np.ndarray:
        return np.diag([self.q_level, self.q_slope]) if self.trend else np.array([[self.q_level]])


@dataclass
class Filtered:
    """End of the filter: everything the forecast needs, per unit."""

    state: np.ndarray  # (N, m) predicted state for the first week after the data
    cov: np.ndarray  # (N, m, m) its covariance, absolute units
    state_noise: np.ndarray  # (N, m, m) covariance of the state disturbances, absolute units
    sigma2: np.ndarray  # (N,) observation noise variance
    loglik: np.ndarray  # (N,)
    fitted: np.ndarray  # (N, n) one-step-ahead predictions of each week
    dynamics: list[Dynamics]  # per unit (shared object for a pooled level)


def _recursion(Y: np.ndarray, dyn: Dynamics, keep_fitted: bool = True
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int, np.ndarray]:
    """The Kalman filter in scale-free form for all rows of Y at once (``fitted`` is empty unless kept)."""
    n_units, n = Y.shape
    m, T, Q = dyn.m, dyn.transition, dyn.state_cov
    a = np.zeros((n_units, m))
    P = KAPPA * np.eye(m)
    burn = m
    sum_v2f = np.zeros(n_units)
    sum_log_f = 0.0
    fitted = np.empty((n_units, n) if keep_fitted else (0, 0))
    for t in range(n):
        if keep_fitted:
            fitted[:, t] = a[:, 0] if t >= burn else np.nan  # no prediction before the diffuse start settles
        v = Y[:, t] - a[:, 0]
        F = P[0, 0] + 1.0
        K = (T @ P[:, 0]) / F
        a = a @ T.T + v[:, None] * K[None, :]
        P = T @ P @ T.T - np.outer(K, K) * F + Q
        P = 0.5 * (P + P.T)
        if t >= burn:
            sum_v2f += v * v / F
            sum_log_f += np.log(F)
    return a, P, sum_v2f, sum_log_f, n - burn, fitted


def _concentrated(sum_v2f: np.ndarray, sum_log_f: float, n_eff: int) -> tuple[np.ndarray, np.ndarray]:
    sigma2 = np.maximum(sum_v2f / max(n_eff, 1), 1e-300)
    loglik = -0.5 * (n_eff * (np.log(2 * np.pi) + 1.0 + np.log(sigma2)) + sum_log_f)
    return sigma2, loglik


def batched_filter(Y: np.ndarray, dyn: Dynamics) -> Filtered:
    """Filter every row of ``Y`` (units x weeks) with shared ratios; sigma2 concentrated per unit."""
    a, P, sum_v2f, sum_log_f, n_eff, fitted = _recursion(Y, dyn)
    sigma2, loglik = _concentrated(sum_v2f, sum_log_f, n_eff)
    return Filtered(
        state=a, cov=sigma2[:, None, None] * P[None], state_noise=sigma2[:, None, None] * dyn.state_cov[None],
        sigma2=sigma2, loglik=loglik, fitted=fitted, dynamics=[dyn] * len(Y),
    )


def fit_pooled(Y: np.ndarray, trend: bool) -> tuple[Dynamics, dict[str, float]]:
    """Shared variance ratios by maximum of the summed concentrated likelihood over the rows of ``Y``."""
    scale = np.maximum(Y.std(axis=1, keepdims=True), 1e-12)
    Z = Y / scale  # each unit in its own units: ratios are scale-free, the optimiser likes O(1) numbers

    def objective(theta: np.ndarray) -> float:
        theta = np.clip(theta, *LOG_RATIO_BOUNDS)
        dyn = Dynamics(trend, float(np.exp(theta[0])), float(np.exp(theta[1])) if trend else 0.0)
        _, _, sum_v2f, sum_log_f, n_eff, _ = _recursion(Z, dyn, keep_fitted=False)
        return -float(_concentrated(sum_v2f, sum_log_f, n_eff)[1].sum())

    starts = [np.array([-2.0, -8.0]), np.array([-5.0, -11.0])] if trend else [np.array([-2.0]), np.array([-6.0])]
    results = [minimize(objective, x0, method="Nelder-Mead", options={"xatol": 1e-3, "fatol": 1e-4, "maxiter": 400})
               for x0 in starts]
    best = min(results, key=lambda r: float(r.fun))
    theta = np.clip(best.x, *LOG_RATIO_BOUNDS)
    dyn = Dynamics(trend, float(np.exp(theta[0])), float(np.exp(theta[1])) if trend else 0.0)
    return dyn, {"q_level": dyn.q_level, "q_slope": dyn.q_slope, "loglik": -float(best.fun), "evaluations": int(best.nfev),
                 "units": int(len(Y))}


def fit_statsmodels(Y: np.ndarray, trend: bool) -> Filtered:
    """One ``UnobservedComponents`` maximum-likelihood fit per row of ``Y``.

    Each series is divided by its standard deviation first, so statsmodels' approximate
    diffuse prior (variance 1e6) is diffuse for currency amounts too; results are
    scaled back.
    """
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    n_units, n = Y.shape
    m = 2 if trend else 1
    out = Filtered(np.zeros((n_units, m)), np.zeros((n_units, m, m)), np.zeros((n_units, m, m)), np.zeros(n_units),
                   np.zeros(n_units), np.zeros((n_units, n)), [])
    for i in range(n_units):
        s = float(max(Y[i].std(), 1e-12))
        model = UnobservedComponents(Y[i] / s, level="lltrend" if trend else "llevel")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = model.fit(disp=False)
        params = dict(zip(model.param_names, result.params, strict=True))
        irregular = max(float(params["sigma2.irregular"]), 1e-12)
        q = [float(params["sigma2.level"])] + ([float(params["sigma2.trend"])] if trend else [])
        out.state[i] = result.predicted_state[:, -1] * s
        out.cov[i] = result.predicted_state_cov[:, :, -1] * s * s
        out.state_noise[i] = np.diag(q) * s * s
        out.sigma2[i] = irregular * s * s
        out.loglik[i] = float(result.llf) - (n - m) * np.log(s)
        out.fitted[i] = result.predicted_state[0, :-1] * s
        out.fitted[i, :m] = np.nan
        out.dynamics.append(Dynamics(trend, q[0] / irregular, q[1] / irregular if trend else 0.0))
    return out


def horizon_weights(days_left: int) -> np.ndarray:
    """Weight of each future week in the rest of the period: 1 per whole week, a fraction for the last."""
    if days_left <= 0:
        return np.zeros(0)
    weeks = int(np.ceil(days_left / 7))
    w = np.ones(weeks)
    w[-1] = (days_left - 7 * (weeks - 1)) / 7
    return w


def sum_moments(f: Filtered, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Mean and variance of :math:`S = \sum_j w_j y_{n+j}` for every unit.

    :math:`S = c' x_{n+1} + \sum_l d_l' \xi_{n+l} + \sum_j w_j \varepsilon_{n+j}` with
    :math:`c = \sum_j w_j (1, j-1)` and :math:`d_l = \sum_{j>l} w_j (1, j-1-l)`, so
    :math:`Var(S) = c'Pc + \sum_l d_l' Q d_l + \sigma^2 \sum_j w_j^2`.
    """
    n_units, m = f.state.shape
    if len(w) == 0:
        return np.zeros(n_units), np.zeros(n_units)
    j = np.arange(1, len(w) + 1)
    c = np.array([w.sum(), (w * (j - 1)).sum()])[:m]
    d = np.array([[w[k:].sum(), (w[k:] * (j[k:] - 1 - k)).sum()] for k in range(1, len(w))]).reshape(-1, 2)[:, :m]
    mean = f.state @ c
    var = np.einsum("i,nij,j->n", c, f.cov, c)
    if len(d):
        var += np.einsum("li,nij,lj->n", d, f.state_noise, d)
    var += f.sigma2 * float((w * w).sum())
    return mean, np.maximum(var, 0.0)
