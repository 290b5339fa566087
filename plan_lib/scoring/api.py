"""Entry points of the scoring step: score every account as of the snapshot, or re-score with a model.

``score_accounts`` reads top to bottom as the recipe:

1. check the parameters against the data (a typo stops the run, naming the key);
2. cut the data to what was known at the end of ``as_of`` (the extract also
   holds the plan period, which must not leak into the plan);
3. segments and families;
4. features of every won/lost opportunity as of its creation, fit the logit
   with an out-of-time holdout (or fall back to the prior);
5. features of every account as of the snapshot, propensity, potential and
   its contributions;
6. backtest: the same recipe as of earlier dates against the bookings that followed.

Everything is a pure function of (tables, params, as_of): no randomness, no I/O.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from plan_lib.jsonable import to_jsonable
from plan_lib.scoring.backtest import BacktestResult, run_backtest
from plan_lib.scoring.checks import check_against_data
from plan_lib.scoring.features import FeatureBuilder, opportunity_features, training_opportunities
from plan_lib.scoring.params import ScoringParams
from plan_lib.scoring.potential import CONTRIBUTION_COLUMNS, compute_potential
from plan_lib.scoring.propensity import FitOutcome, PropensityModel, fit_propensity
from plan_lib.scoring.segments import assign_segments


@dataclass
class ScoringResult:
    scores: (
        pd.DataFrame
    )  # one row per account: account_id, segment, potential, propensity, contrib_*, factors
    model_report: dict[
        str, Any
    ]  # JSON-serialisable: formula, sizes, AUCs, calibration, coefficients, fallback
    coefficients: pd.DataFrame
    calibration: pd.DataFrame
    backtest: BacktestResult | None
    params_used: dict[str, Any]
    model: PropensityModel  # for re-scoring without a refit (see rescore)
    holdout: pd.DataFrame  # holdout opportunities: opportunity_id, won, predicted


def as_of_view(tables: dict[str, pd.DataFrame], as_of: dt.date) -> dict[str, pd.DataFrame]:
    """The tables as they stood at the end of ``as_of``.

    Events after it are dropped, opportunities created after it too, and an
    opportunity that closed after it is shown as it was then: open, without
    close date. Accounts, reps and targets have no dates and are kept.
    """
    end = pd.Timestamp(as_of)
    view = dict(tables)
    for name in ("intent_signals", "activities"):
        frame = tables.get(name)
        if frame is not None:
            view[name] = frame.loc[frame["date"] <= end].reset_index(drop=True)
    opps = tables.get("opportunities")
    if opps is not None:
        opps = opps.loc[opps["created_date"] <= end].reset_index(drop=True)
        later = (opps["close_date"] > end).fillna(False)
        if later.any():
            opps = opps.copy()
            opps.loc[later, "stage"] = "open"
            opps.loc[later, "close_date"] = pd.NaT
        view["opportunities"] = opps
    return view


def _score_as_of(
    builder: FeatureBuilder,
    segments: pd.DataFrame,
    opportunities: pd.DataFrame,
    params: ScoringParams,
    as_of: dt.date,
) -> tuple[pd.DataFrame, FitOutcome, dict[str, float]]:
    """Fit on what was known at ``as_of`` and score every account as of then."""
    known = training_opportunities(opportunities, as_of, params.propensity.history_days)
    outcome = fit_propensity(opportunity_features(builder, known), params.propensity)
    features = builder.accounts_at(as_of)
    scores, reference = compute_potential(
        features, segments, outcome.model.predict(features), params
    )
    return scores, outcome, reference


def rescore(
    tables: dict[str, pd.DataFrame], params: ScoringParams, as_of: dt.date, model: PropensityModel
) -> pd.DataFrame:
    """Features + formula with an already fitted (or loaded) model: the analyst's fast loop."""
    as_of = pd.Timestamp(as_of).date()
    view = as_of_view(tables, as_of)
    segments = assign_segments(view["accounts"], params)
    builder = FeatureBuilder(view, params, segments["segment"])
    features = builder.accounts_at(as_of)
    scores, _ = compute_potential(features, segments, model.predict(features), params)
    return scores


def score_accounts(
    tables: dict[str, pd.DataFrame], params: ScoringParams, as_of: dt.date, seed: int = 0
) -> ScoringResult:
    """Score every account as of the end of ``as_of`` using only data dated on or before it.

    ``seed`` is recorded for the run; scoring itself draws no random numbers.
    """
    as_of = pd.Timestamp(as_of).date()  # a datetime or Timestamp means its whole day
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    check_against_data(params, tables, as_of)
    view = as_of_view(tables, as_of)
    segments = assign_segments(view["accounts"], params)
    builder = FeatureBuilder(view, params, segments["segment"])
    timings["prepare_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    scores, outcome, reference = _score_as_of(
        builder, segments, view["opportunities"], params, as_of
    )
    timings["fit_and_score_s"] = time.perf_counter() - clock

    backtest = None
    if params.backtest.enabled:
        clock = time.perf_counter()

        def earlier(day: dt.date) -> tuple[pd.DataFrame, dict[str, Any]]:
            past_scores, past_outcome, _ = _score_as_of(
                builder, segments, view["opportunities"], params, day
            )
            return past_scores, past_outcome.report

        backtest = run_backtest(earlier, view["opportunities"], as_of, params.backtest)
        timings["backtest_s"] = time.perf_counter() - clock

    report = dict(outcome.report)
    report.update(
        {
            "as_of": as_of,
            "seed": seed,
            "n_accounts": len(scores),
            "segments": scores["segment"].value_counts().sort_index().to_dict(),
            "potential_total": float(scores["potential"].sum()),
            "potential_by_segment": scores.groupby("segment")["potential"].sum().to_dict(),
            "contributions_total": {c: float(scores[c].sum()) for c in CONTRIBUTION_COLUMNS},
            "contribution_reference": reference,
            "coefficients": outcome.coefficients,
            "calibration": outcome.calibration,
            "backtest": backtest.to_dict() if backtest is not None else None,
            "timings": timings,
        }
    )
    return ScoringResult(
        scores=scores,
        model_report=to_jsonable(report),
        coefficients=outcome.coefficients,
        calibration=outcome.calibration,
        backtest=backtest,
        params_used=params.model_dump(mode="json"),
        model=outcome.model,
        holdout=outcome.holdout,
    )


MODEL_SUMMARY_KEYS = (
    "formula", "n_train", "n_holdout", "auc_train", "auc_holdout", "fallback", "fallback_reason", "final_fit",
    "n_accounts", "potential_total",
)


def model_summary(report: dict[str, Any]) -> pd.Series:
    """The model report's headline figures, for a notebook table."""
    return pd.Series({key: report.get(key) for key in MODEL_SUMMARY_KEYS}, name="propensity model", dtype="object")
