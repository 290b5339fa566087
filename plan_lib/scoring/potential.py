"""The potential formula and its explanation as additive contributions.

    potential = B x F x U x P + E

    B  base_value[segment]             currency per year of a fit-1 account that buys
    F  fit = industry weight x size curves
    U  intent uplift = 1 + max_uplift x (1 - exp(-intent_score / saturation))
    P  propensity (the model's probability as of the snapshot)
    E  expansion = expansion_factor x current_arr for customers, else 0

Contributions. Each account is compared with a *typical account of its
segment*: F = 1, U = 1 (no intent), P = the reference propensity (the mean
over the accounts scored, or ``reference_propensity``), worth
``contrib_base = B x 1 x 1 x P_ref``. The difference between the account's
product B·F·U·P and that base is shared between fit, intent and propensity by
the Shapley value of the three factors: each factor's contribution is the
average, over the 6 orders in which the factors can move from the typical
value to the account's, of the change in the product when that factor moves.

Why Shapley and not a log-decomposition (contribution_k proportional to
log(f_k / ref_k)): both add up exactly, but the log form breaks when a factor
is 0 (an industry weight of 0 is a legitimate way to exclude an industry) and
gives unstable shares when the product barely changes; the Shapley value is
defined for every value, is symmetric between factors, and with three factors
costs 4 products per factor (vectorised). Expansion is additive already, so it
is its own contribution. Hence, exactly (up to floating point):

    potential = contrib_base + contrib_fit + contrib_intent + contrib_propensity + contrib_expansion
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from plan_lib.errors import ParameterError
from plan_lib.scoring._lookup import lookup
from plan_lib.scoring.params import ScoringParams, SizeCurve

COMPONENTS: tuple[str, ...] = ("base", "fit", "intent", "propensity", "expansion")
CONTRIBUTION_COLUMNS: tuple[str, ...] = tuple(f"contrib_{c}" for c in COMPONENTS)


def curve_values(values: pd.Series, curve: SizeCurve) -> np.ndarray:
    """The curve's multiplier for each value (flat beyond the ends; ``missing`` where empty)."""
    x = values.astype("float64").to_numpy(na_value=np.nan)
    xs = np.array([p[0] for p in curve.points], dtype=float)
    ys = np.array([p[1] for p in curve.points], dtype=float)
    if curve.scale == "log":
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.interp(np.log10(np.clip(x, xs[0], xs[-1])), np.log10(xs), ys)
    else:
        out = np.interp(x, xs, ys)
    return np.where(np.isnan(x), curve.missing, out)


def fit_scores(accounts: pd.DataFrame, params: ScoringParams) -> np.ndarray:
    """Industry weight x the product of the size curves (1 = a typical account)."""
    fit = lookup(accounts["industry"], params.industry_weights, params.default_industry_weight)
    for column, curve in params.size_curves.items():
        fit = fit * curve_values(accounts[column], curve)
    return fit


def intent_uplift(intent_score: np.ndarray, params: ScoringParams) -> np.ndarray:
    p = params.intent
    return 1.0 + p.max_uplift * (1.0 - np.exp(-np.asarray(intent_score, float) / p.saturation))


def shapley_product(
    base: np.ndarray, factors: dict[str, tuple[np.ndarray, float]]
) -> dict[str, np.ndarray]:
    """Shapley contributions of each factor to ``base x prod(value) - base x prod(reference)``.

    ``factors`` maps a name to (per-account value, reference value). The
    contributions sum exactly to the change of the product.
    """
    names = list(factors)
    n = len(names)
    out = {}
    for k, name in enumerate(names):
        others = [i for i in range(n) if i != k]
        value_k, ref_k = factors[name]
        total = np.zeros_like(base, dtype=float)
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for moved in itertools.combinations(others, size):
                rest = base.astype(float).copy()
                for i in others:
                    value, ref = factors[names[i]]
                    rest = rest * (value if i in moved else ref)
                total += weight * rest * (value_k - ref_k)
        out[name] = total
    return out


def compute_potential(
    features: pd.DataFrame,
    segments: pd.DataFrame,
    propensity: np.ndarray,
    params: ScoringParams,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Scores with factors and contributions, and the reference ('typical account') used.

    ``features`` and ``segments`` are aligned row by row with the accounts.
    """
    segment = segments["segment"].astype("str")
    base_v = lookup(segment, params.base_value, np.nan)
    if np.isnan(base_v).any():
        missing = sorted(segment[np.isnan(base_v)].fillna("(none)").unique())
        raise ParameterError(
            "parameters",
            "scoring.base_value",
            f"no value for segment(s) {', '.join(missing)}; add one per segment",
        )
    fit = fit_scores(features, params)
    uplift = intent_uplift(features["intent_score"].to_numpy(), params)
    p = np.asarray(propensity, dtype=float)
    p_ref = (
        params.reference_propensity
        if params.reference_propensity is not None
        else (float(p.mean()) if len(p) else 0.0)
    )
    expansion = (
        params.expansion_factor
        * features["current_arr"].to_numpy(float)
        * features["is_customer"].to_numpy(float)
    )

    parts = shapley_product(
        base_v, {"fit": (fit, 1.0), "intent": (uplift, 1.0), "propensity": (p, p_ref)}
    )
    potential = base_v * fit * uplift * p + expansion
    scores = pd.DataFrame(
        {
            "account_id": segments["account_id"].astype("str").reset_index(drop=True),
            "segment": segment.reset_index(drop=True),
            "family_id": segments["family_id"].astype("str").reset_index(drop=True),
            "potential": potential,
            "propensity": p,
            "contrib_base": base_v * p_ref,
            "contrib_fit": parts["fit"],
            "contrib_intent": parts["intent"],
            "contrib_propensity": parts["propensity"],
            "contrib_expansion": expansion,
            "base_value": base_v,
            "fit_score": fit,
            "intent_score": features["intent_score"].to_numpy(float),
            "intent_uplift": uplift,
            "activity_count": features["activity_count"].to_numpy(float),
            "is_customer": features["is_customer"].to_numpy(float).astype(bool),
        }
    )
    scores = scores.astype({"account_id": "str", "segment": "str", "family_id": "str"})
    return scores, {"fit": 1.0, "intent_uplift": 1.0, "propensity": p_ref}
