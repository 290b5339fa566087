"""The propensity model: a statsmodels logit on won/lost opportunities, validated out of time.

Why these choices:

- statsmodels' formula API (``won ~ np.log1p(employees) + C(industry) + ...``):
  analysts read and change the terms in the parameters file, and the fit
  comes with standard errors, so the coefficient table carries confidence
  intervals, not just point estimates.
- Out-of-time holdout: the most recently created opportunities are held out
  (or those from ``holdout_from``), because the plan scores the future; a
  random split would flatter the model with periods it has already seen.
- The model is then refitted on all opportunities (``refit_on_all``) so the
  newest quarter also informs the scores; the holdout figures stay those of
  the training-only fit, which is what they measure.
- Fallback: with fewer than ``min_events`` wins or losses (or a fit that
  fails), a logit cannot be trusted, so the documented prior coefficients of
  the parameters are used instead and the report says why. The prior is
  still evaluated on whatever history exists.
- Missing numbers are filled with the training median and rare or unseen
  categories pooled into "Other" (recorded in the model), so every account
  gets a propensity and scoring uses exactly the training transformation.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import patsy
import statsmodels.formula.api as smf
from scipy.stats import rankdata
from statsmodels.stats.proportion import proportion_confint
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from plan_lib.scoring.features import CATEGORICAL_FEATURES, NUMERIC_FEATURES
from plan_lib.scoring.params import PropensityParams

OTHER = "Other"
MISSING = "(missing)"


def formula_of(terms: list[str]) -> str:
    return "won ~ " + (" + ".join(terms) if terms else "1")


def varying_terms(train: pd.DataFrame, terms: list[str]) -> tuple[list[str], list[str]]:
    """Terms whose design columns vary in the training data, and those that do not.

    A term that is constant in training (no activities table, an intent feed
    that starts after the history) is collinear with the intercept and would
    make the logit singular; it is left out of the fit and reported, instead of
    failing the whole model.
    """
    names, design = design_matrix(formula_of(terms), train)
    varies = dict(zip(names, design.std(axis=0) > 0, strict=True))
    kept, dropped = [], []
    for term in terms:
        columns = [n for n in names if n == term or n.startswith(term + "[")]
        constant = bool(columns) and not any(varies[c] for c in columns)  # unmatched names: keep
        (dropped if constant else kept).append(term)
    return kept, dropped


def auc(y: npt.ArrayLike, p: npt.ArrayLike) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with mid-ranks for ties); None with one class only."""
    y = np.asarray(y, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(np.asarray(p, dtype=float))
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Predicted vs observed win rate per decile of predicted probability, with a Wilson 95% interval."""
    columns = ["decile", "n", "mean_predicted", "observed_rate", "observed_low", "observed_high"]
    if len(y) == 0:
        return pd.DataFrame(columns=columns)
    order = rankdata(p, method="ordinal")
    decile = np.ceil(order * bins / len(p)).astype(int)
    frame = pd.DataFrame({"decile": decile, "y": np.asarray(y, float), "p": np.asarray(p, float)})
    table = (
        frame.groupby("decile")
        .agg(n=("y", "size"), mean_predicted=("p", "mean"), wins=("y", "sum"))
        .reset_index()
    )
    low, high = proportion_confint(table["wins"], table["n"], alpha=0.05, method="wilson")
    table["observed_rate"] = table["wins"] / table["n"]
    table["observed_low"], table["observed_high"] = np.asarray(low), np.asarray(high)
    return table[columns]


def as_levels(values: pd.Series, levels: list[str]) -> pd.Categorical[str]:
    """Categorical on the training levels: missing -> "(missing)"; unseen -> "Other" (else the first level).

    Maps each distinct value once (factorize), not each row: fast on millions of accounts.
    """
    codes, uniques = pd.factorize(values)
    index = {level: i for i, level in enumerate(levels)}
    fallback = index.get(OTHER, 0)
    table = np.array(
        [index.get(str(u), fallback) for u in uniques] + [index.get(MISSING, fallback)],
        dtype=np.int64,
    )
    return pd.Categorical.from_codes(
        table[np.where(codes >= 0, codes, len(uniques))], categories=pd.Index(levels)
    )


@dataclass
class PropensityModel:
    """A fitted logit or the prior, plus the data preparation both need at scoring time."""

    formula: str
    coefficients: pd.Series  # design column -> logit coefficient
    levels: dict[
        str, list[str]
    ]  # categorical feature -> categories seen in training (after pooling)
    fill_values: dict[str, float]  # numeric feature -> value used where it is missing
    fallback: bool
    reason: str
    result: Any = None  # statsmodels LogitResults when fitted

    def prepare(self, features: pd.DataFrame) -> pd.DataFrame:
        """Features with missing numbers filled and categories mapped to the training levels."""
        out = features.copy()
        for column, value in self.fill_values.items():
            out[column] = out[column].astype("float64").fillna(value)
        for column, levels in self.levels.items():
            out[column] = as_levels(out[column], levels)
        return out

    def linear_predictor(self, features: pd.DataFrame) -> np.ndarray:
        prepared = self.prepare(features)
        spec = getattr(
            getattr(getattr(self.result, "model", None), "data", None), "model_spec", None
        )
        if isinstance(
            spec, patsy.DesignInfo
        ):  # the fit's own transformation, stateful terms included
            (matrix,) = patsy.build_design_matrices([spec], prepared, NA_action="raise")
            names, design = list(matrix.design_info.column_names), np.asarray(matrix, dtype=float)
        else:  # the prior, or a model loaded from a pickle: the formula re-evaluated
            names, design = design_matrix(self.formula, prepared)
        beta = self.coefficients.reindex(names).fillna(0.0).to_numpy()
        return design @ beta

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Probability of winning, as of the features' date."""
        eta = np.clip(self.linear_predictor(features), -35, 35)
        return 1.0 / (1.0 + np.exp(-eta))

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the statsmodels result: statsmodels 0.15 cannot unpickle formula
        results (patsy re-evaluates the formula in a missing stack frame); the
        coefficients and the formula are all that scoring needs."""
        state = dict(self.__dict__)
        state["result"] = None
        return state


def design_matrix(formula: str, frame: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Column names and design matrix of the formula's right-hand side.

    patsy is the formula engine statsmodels uses here, so the names match the
    fitted coefficients ('C(industry)[T.Retail]'); categorical features must
    be prepared (:meth:`PropensityModel.prepare`) so the columns are those of training.
    """
    rhs = formula.split("~", 1)[1] if "~" in formula else formula
    matrix = patsy.dmatrix(rhs, frame, NA_action="raise", eval_env=0)
    return list(matrix.design_info.column_names), np.asarray(matrix, dtype=float)


def _categorical_columns(terms: list[str]) -> list[str]:
    text = " ".join(terms)
    return [c for c in CATEGORICAL_FEATURES if c in text]


def preparation(
    training: pd.DataFrame, params: PropensityParams
) -> tuple[dict[str, list[str]], dict[str, float], dict[str, list[str]]]:
    """Training levels per categorical feature (rare ones pooled), fill values, and what was pooled."""
    levels: dict[str, list[str]] = {}
    pooled: dict[str, list[str]] = {}
    for column in _categorical_columns(params.terms):
        values = training[column].astype("str").fillna(MISSING)
        counts = values.value_counts()
        rare = sorted(counts.index[counts < params.min_level_count])
        keep = sorted(counts.index[counts >= params.min_level_count])
        if rare or not keep:
            keep = sorted(set(keep) | {OTHER})
        levels[column] = keep or [OTHER]
        pooled[column] = rare
    fills = {}
    for column in NUMERIC_FEATURES:
        median = training[column].astype("float64").median() if column in training else np.nan
        fills[column] = 0.0 if median is None or math.isnan(median) else float(median)
    return levels, fills, pooled


def coefficient_table(model: PropensityModel) -> pd.DataFrame:
    """term, coef, std_err, z, p_value, ci_low, ci_high (95%), odds_ratio; the prior has no intervals."""
    if model.result is None:
        coef = model.coefficients
        return pd.DataFrame(
            {
                "term": coef.index.astype("str"),
                "coef": coef.to_numpy(dtype=float),
                "std_err": np.nan,
                "z": np.nan,
                "p_value": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "odds_ratio": np.exp(coef.to_numpy(dtype=float)),
            }
        )
    r = model.result
    ci = r.conf_int(alpha=0.05)
    return pd.DataFrame(
        {
            "term": r.params.index.astype("str"),
            "coef": r.params.to_numpy(),
            "std_err": r.bse.to_numpy(),
            "z": r.tvalues.to_numpy(),
            "p_value": r.pvalues.to_numpy(),
            "ci_low": ci.iloc[:, 0].to_numpy(),
            "ci_high": ci.iloc[:, 1].to_numpy(),
            "odds_ratio": np.exp(r.params.to_numpy()),
        }
    )


@dataclass
class FitOutcome:
    model: PropensityModel
    report: dict[str, Any]
    coefficients: pd.DataFrame
    calibration: pd.DataFrame
    holdout: pd.DataFrame = field(default_factory=pd.DataFrame)  # opportunity_id, won, predicted


def _fit_logit(formula: str, data: pd.DataFrame, max_iter: int) -> tuple[Any, list[str]]:
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = smf.logit(formula, data, missing="raise").fit(
            disp=0, maxiter=max_iter, method="newton"
        )
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning | PerfectSeparationWarning):
            notes.append(str(warning.message).splitlines()[0])
    if not result.mle_retvals.get("converged", True):
        notes.append(f"the fit did not converge in {max_iter} iterations")
    return result, notes


def _mcfadden_r2(llf: float, y: np.ndarray) -> float:
    """McFadden's pseudo R2 with the intercept-only log-likelihood in closed form
    (statsmodels' ``prsquared`` refits the null model numerically, seconds on big data)."""
    rate = float(np.mean(y))
    if rate in (0.0, 1.0):
        return float("nan")
    llnull = len(y) * (rate * math.log(rate) + (1 - rate) * math.log(1 - rate))
    return float(1.0 - llf / llnull)


def _split_date(training: pd.DataFrame, params: PropensityParams) -> pd.Timestamp:
    if params.holdout_from is not None:
        return pd.Timestamp(params.holdout_from)
    created = training["created_date"].sort_values(kind="stable").reset_index(drop=True)
    position = int(math.floor(len(created) * (1 - params.holdout_share)))
    return pd.Timestamp(created.iloc[min(position, len(created) - 1)])


def _events(frame: pd.DataFrame) -> tuple[int, int]:
    wins = int(frame["won"].sum()) if len(frame) else 0
    return wins, len(frame) - wins


def _split(
    training: pd.DataFrame, params: PropensityParams
) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    """Out-of-time split: (train, holdout, first holdout day)."""
    if not len(training):
        return training, training, None
    split = _split_date(training, params)
    late = (training["created_date"] >= split).to_numpy()
    return training[~late], training[late], split.date().isoformat()


def _fit(
    train: pd.DataFrame, params: PropensityParams, prior: PropensityModel, report: dict[str, Any]
) -> PropensityModel | str:
    """The fitted model, or the reason why the prior must be used instead."""
    wins, losses = _events(train)
    if min(wins, losses) < params.min_events:
        return (
            f"history too thin: the training opportunities hold {wins} wins and {losses} losses, "
            f"fewer than scoring.propensity.min_events = {params.min_events} of each"
        )
    prepared = prior.prepare(train)
    try:
        kept, dropped = varying_terms(prepared, params.terms)
        report["dropped_terms"] = dropped
        report["notes"] += [
            f"term '{t}' left out of the fit: it does not vary in the training data"
            for t in dropped
        ]
        report["formula"] = formula_of(kept)
        result, notes = _fit_logit(report["formula"], prepared, params.max_iter)
    except Exception as error:  # statsmodels raises several types (singular matrix, separation)
        return f"the logit fit failed ({type(error).__name__}: {error}); check the formula terms"
    report["notes"] += notes
    report["pseudo_r2_train"] = _mcfadden_r2(result.llf, train["won"].to_numpy(float))
    report["converged"] = bool(result.mle_retvals.get("converged", True))
    return PropensityModel(
        report["formula"], result.params, prior.levels, prior.fill_values, False, "", result
    )


def _evaluate(
    model: PropensityModel, prior: PropensityModel, train: pd.DataFrame, holdout: pd.DataFrame
) -> tuple[dict[str, Any], pd.DataFrame, np.ndarray]:
    """AUCs, Brier score, log loss and calibration (on the holdout, else on train)."""
    p_train = model.predict(train) if len(train) else np.zeros(0)
    p_holdout = model.predict(holdout) if len(holdout) else np.zeros(0)
    figures: dict[str, Any] = {
        "auc_train": auc(train["won"], p_train) if len(train) else None,
        "auc_holdout": auc(holdout["won"], p_holdout) if len(holdout) else None,
        "calibration_on": "holdout" if len(holdout) else "train",
    }
    if len(holdout):
        y = holdout["won"].to_numpy(float)
        clipped = np.clip(p_holdout, 1e-12, 1 - 1e-12)
        figures["brier_holdout"] = float(np.mean((p_holdout - y) ** 2))
        figures["log_loss_holdout"] = float(
            -np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))
        )
        figures["holdout_win_rate"] = float(y.mean())
        figures["holdout_mean_predicted"] = float(p_holdout.mean())
        figures["auc_holdout_prior"] = auc(y, prior.predict(holdout))
    on, p = (holdout, p_holdout) if len(holdout) else (train, p_train)
    calibration = calibration_table(on["won"].to_numpy(float) if len(on) else np.zeros(0), p)
    return figures, calibration, p_holdout


def fit_propensity(training: pd.DataFrame, params: PropensityParams) -> FitOutcome:
    """Fit (or fall back to the prior) on opportunities with features and a 0/1 ``won`` column."""
    formula = formula_of(params.terms)
    report: dict[str, Any] = {
        "formula": formula,
        "engine": "statsmodels Logit (formula API)",
        "notes": [],
    }
    empty_fills = {c: 0.0 for c in NUMERIC_FEATURES}
    levels, fills, pooled = (
        preparation(training, params) if len(training) else ({}, empty_fills, {})
    )
    report.update(pooled_levels=pooled, fill_values=fills)
    report["n_opportunities"] = len(training)
    report["n_won"], report["n_lost"] = _events(training)

    train, holdout, report["holdout_from"] = _split(training, params)
    report["n_train"], report["n_holdout"] = len(train), len(holdout)
    report["n_train_won"], report["n_train_lost"] = _events(train)

    prior = PropensityModel(formula, pd.Series(params.prior, dtype=float), levels, fills, True, "")
    fitted = _fit(train, params, prior, report)
    model = fitted if isinstance(fitted, PropensityModel) else prior
    model.reason = fitted if isinstance(fitted, str) else ""
    report["fallback"] = model.fallback
    report["fallback_reason"] = model.reason or None
    figures, calibration, p_holdout = _evaluate(model, prior, train, holdout)
    report.update(figures)

    report["final_fit"] = "prior" if model.fallback else "training opportunities"
    if not model.fallback and params.refit_on_all and len(holdout):
        try:
            result, notes = _fit_logit(model.formula, prior.prepare(training), params.max_iter)
            report["notes"] += [f"refit on all: {n}" for n in notes]
            model = PropensityModel(model.formula, result.params, levels, fills, False, "", result)
            report["final_fit"] = "all opportunities (train + holdout)"
        except Exception as error:  # keep the validated training fit
            report["notes"].append(
                f"refit on all failed ({type(error).__name__}); the training fit is used"
            )
    report["n_final"] = len(training) if report["final_fit"].startswith("all") else len(train)

    holdout_frame = pd.DataFrame(
        {
            "opportunity_id": holdout["opportunity_id"].to_numpy(),
            "won": holdout["won"].to_numpy(float),
            "predicted": p_holdout,
        }
    )
    return FitOutcome(model, report, coefficient_table(model), calibration, holdout_frame)
