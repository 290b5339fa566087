"""End to end on the demo data, through files and ingest as the pipeline does: the fitted
propensity model ranks holdout opportunities about as well as the generator's hidden truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from plan_lib.demo import generate_demo_data, write_demo_data
from plan_lib.ingest import ingest
from plan_lib.scoring import ScoringParams, score_accounts
from plan_lib.scoring.potential import CONTRIBUTION_COLUMNS
from plan_lib.scoring.propensity import auc
from plan_lib.sources import read_inputs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    data = generate_demo_data(n_accounts=20_000, n_reps=80, seed=3, period="2027Q1")
    folder = tmp_path_factory.mktemp("demo")
    write_demo_data(data, Path(folder), fmt="parquet")
    tables = ingest(read_inputs(folder)).tables
    return data, tables, score_accounts(tables, ScoringParams(), data.as_of, seed=3)


def test_holdout_auc_is_close_to_the_truth(demo) -> None:
    data, _, result = demo
    report = result.model_report
    assert not report["fallback"] and report["n_holdout"] > 1_000
    truth = data.truth["opportunity_truth"].set_index("opportunity_id")["true_win_probability"]
    holdout = result.holdout
    true_auc = auc(holdout["won"], truth.reindex(holdout["opportunity_id"]).to_numpy())
    assert report["auc_holdout"] == pytest.approx(auc(holdout["won"], holdout["predicted"]))
    assert abs(report["auc_holdout"] - true_auc) < 0.03, (report["auc_holdout"], true_auc)


def test_demo_scores_are_explained_and_segmented_like_the_truth(demo) -> None:
    data, tables, result = demo
    scores = result.scores
    assert len(scores) == len(tables["accounts"])
    np.testing.assert_allclose(
        scores[list(CONTRIBUTION_COLUMNS)].sum(axis=1), scores["potential"], rtol=1e-9, atol=1e-6
    )
    truth = data.truth["account_truth"].set_index("account_id")
    assert (
        scores.set_index("account_id")["segment"]
        == truth["true_segment"].reindex(scores["account_id"])
    ).all()
    # the backtest sees the formula predict next-period bookings
    assert result.backtest.periods["top_decile_lift"].iloc[0] > 3
    assert result.backtest.spearman > 0.15
