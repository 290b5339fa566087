"""Scoring speed on demo data: the analyst's re-score loop and the model fit.

Targets (issue 3): re-score 1,000,000 accounts (features + formula, with the
model already fitted) in under 30 s; fit the propensity model on 200,000
opportunities in under 60 s; a full scoring run of the default 20,000-account
demo in seconds. Tables come straight from the demo generator with ingest's
dtypes (ingest has its own benchmark), so the figures are the scoring step's.
Usage: .venv/bin/python benchmarks/scoring.py [--accounts 1000000] [--fit-opportunities 200000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from plan_lib.demo import generate_demo_data
from plan_lib.scoring import ScoringParams, as_of_view, rescore, score_accounts
from plan_lib.scoring.features import FeatureBuilder, opportunity_features, training_opportunities
from plan_lib.scoring.propensity import fit_propensity
from plan_lib.scoring.segments import assign_segments


def demo_tables(n_accounts: int, n_reps: int) -> tuple[dict[str, pd.DataFrame], object]:
    data = generate_demo_data(n_accounts=n_accounts, n_reps=n_reps, seed=0)
    tables = dict(data.tables)
    accounts = tables["accounts"].copy()
    accounts["employees"] = accounts["employees"].astype("Int64")  # as ingest types them
    accounts["is_customer"] = accounts["is_customer"].astype("boolean")
    tables["accounts"] = accounts
    return tables, data.as_of


def timed(label: str, func, *args, **kwargs):
    started = time.perf_counter()
    out = func(*args, **kwargs)
    print(f"  {label}: {time.perf_counter() - started:.2f} s")
    return out


def bench_default_demo() -> None:
    print("default demo (20,000 accounts, 80 reps):")
    tables, as_of = demo_tables(20_000, 80)
    params = ScoringParams()
    result = timed(
        "full score_accounts (checks, fit, score, 1-period backtest)",
        score_accounts,
        tables,
        params,
        as_of,
    )
    timed("re-score with the fitted model", rescore, tables, params, as_of, result.model)
    print(
        f"  holdout AUC {result.model_report['auc_holdout']:.3f}, backtest Spearman {result.backtest.spearman:.3f}"
    )


def bench_fit(n_opportunities: int) -> None:
    n_accounts = (
        int(n_opportunities / 3.2) + 1_000
    )  # about 3.4 won/lost opportunities per demo account
    print(
        f"propensity fit on {n_opportunities:,} opportunities (demo with {n_accounts:,} accounts):"
    )
    tables, as_of = demo_tables(n_accounts, max(80, n_accounts // 250))
    params = ScoringParams()
    view = as_of_view(tables, as_of)
    segments = assign_segments(view["accounts"], params)
    started = time.perf_counter()
    builder = FeatureBuilder(view, params, segments["segment"])
    known = (
        training_opportunities(view["opportunities"], as_of)
        .tail(n_opportunities)
        .reset_index(drop=True)
    )
    training = opportunity_features(builder, known)
    features_s = time.perf_counter() - started
    outcome = fit_propensity(training, params.propensity)
    total = time.perf_counter() - started
    print(
        f"  opportunities used: {len(training):,} (of {len(training_opportunities(view['opportunities'], as_of)):,} known)"
    )
    print(f"  features as of each creation date: {features_s:.2f} s")
    print(f"  fit + holdout evaluation + refit on all: {total - features_s:.2f} s")
    print(
        f"  total (target < 60 s): {total:.2f} s; holdout AUC {outcome.report['auc_holdout']:.3f}"
    )


def bench_rescore(n_accounts: int) -> None:
    print(f"re-score of {n_accounts:,} accounts:")
    started = time.perf_counter()
    tables, as_of = demo_tables(n_accounts, max(80, n_accounts // 500))
    print(
        f"  (demo generation, not scoring: {time.perf_counter() - started:.1f} s; "
        f"{len(tables['intent_signals']):,} intent signals, {len(tables['activities']):,} activities, "
        f"{len(tables['opportunities']):,} opportunities)"
    )
    params = ScoringParams.model_validate(
        {"propensity": {"history_days": 180}, "backtest": {"enabled": False}}
    )
    result = timed(
        "fit on the last 180 days of opportunities + score (score_accounts)",
        score_accounts,
        tables,
        params,
        as_of,
    )
    print(f"    model fitted on {result.model_report['n_final']:,} opportunities")
    seconds = []
    for _ in range(2):
        started = time.perf_counter()
        scores = rescore(tables, params, as_of, result.model)
        seconds.append(time.perf_counter() - started)
    print(
        f"  re-score (features + formula, fitted model), 2 runs (target < 30 s): "
        f"{seconds[0]:.2f} s, {seconds[1]:.2f} s"
    )
    assert len(scores) == n_accounts and np.isfinite(scores["potential"]).all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--accounts", type=int, default=1_000_000, help="accounts for the re-score benchmark"
    )
    parser.add_argument(
        "--fit-opportunities", type=int, default=200_000, help="opportunities for the fit benchmark"
    )
    args = parser.parse_args()
    bench_default_demo()
    bench_fit(args.fit_opportunities)
    bench_rescore(args.accounts)


if __name__ == "__main__":
    main()
