"""Pfizer Turkey (22 bricks, 4 reps): the published optima, through both Python APIs.

The fixture is a copy of ``shared/fixtures/pfizer_22x4`` kept in ``tests/fixtures`` (see its
README), so the published optima are always checked, never skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from plan_lib.balance import BalanceParams, TerritoryModel, balance_books, solve_model
from plan_lib.balance.solve import SolveOptions

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "pfizer_22x4"
EXACT = SolveOptions(mip_gap=0.0)


@pytest.fixture(scope="module")
def pfizer() -> tuple[pd.DataFrame, pd.DataFrame]:
    bricks = pd.read_csv(FIXTURE / "bricks.csv")
    distances = pd.read_csv(FIXTURE / "distances.csv").set_index("brick")
    return bricks, distances


def total_distance(distances: pd.DataFrame, rep_of_brick: np.ndarray) -> float:
    return float(distances.to_numpy()[np.arange(len(distances)), rep_of_brick].sum())


@pytest.mark.parametrize(
    ("band", "expected_km"),
    [((0.8, 1.2), 154.60), ((0.85, 1.15), 160.32), ((0.9, 1.1), 162.43)],
)
def test_min_distance_with_workload_band(pfizer, band, expected_km):
    bricks, distances = pfizer
    model = TerritoryModel.from_cost_matrix(distances, bricks["workload"], band=band)
    result = solve_model(model, EXACT)
    assert result.report["status"] == "optimal"
    assert result.report["objective"] == pytest.approx(expected_km, abs=1e-9)
    assert total_distance(distances, result.rep_of_unit) == pytest.approx(expected_km, abs=1e-9)
    loads = np.bincount(result.rep_of_unit, weights=bricks["workload"], minlength=4)
    assert ((loads >= band[0] - 1e-9) & (loads <= band[1] + 1e-9)).all()
    assert result.report["lp_bound"] <= expected_km


def test_published_loads_at_154_60(pfizer):
    bricks, distances = pfizer
    result = solve_model(
        TerritoryModel.from_cost_matrix(distances, bricks["workload"], band=(0.8, 1.2)), EXACT
    )
    loads = np.bincount(result.rep_of_unit, weights=bricks["workload"], minlength=4)
    np.testing.assert_allclose(loads, [1.038, 1.045, 1.115, 0.803], atol=5e-4)


def test_min_disruption_moves_bricks_11_and_12(pfizer):
    bricks, distances = pfizer
    current = bricks["current_rep"].to_numpy() - 1
    model = TerritoryModel.from_cost_matrix(
        distances,
        bricks["workload"],
        band=(0.8, 1.2),
        current=current,
        cost_weight=0.0,
        disruption_weight=1.0,
    )
    result = solve_model(model, EXACT)
    assert result.report["objective"] == pytest.approx(0.1696, abs=1e-9)
    moved = np.flatnonzero(result.rep_of_unit != current)
    assert (bricks["brick"].to_numpy()[moved]).tolist() == [11, 12]
    assert (result.rep_of_unit[moved] == 2).all()  # to rep 3
    assert total_distance(distances, result.rep_of_unit) == pytest.approx(188.95, abs=1e-9)


def test_the_current_assignment_breaks_the_band(pfizer):
    bricks, distances = pfizer
    current = bricks["current_rep"].to_numpy() - 1
    model = TerritoryModel.from_cost_matrix(distances, bricks["workload"], band=(0.8, 1.2))
    violations = model.check_assignment(current)
    assert violations["band_upper"] == pytest.approx(1.3377 - 1.2, abs=1e-4)  # rep 2
    assert violations["band_lower"] == pytest.approx(0.8 - 0.7048, abs=1e-4)  # rep 3
    assert total_distance(distances, current) == pytest.approx(187.41, abs=1e-9)


def _frames(
    bricks: pd.DataFrame, distances: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    accounts = pd.DataFrame(
        {
            "account_id": bricks["brick"].astype(str),
            "segment": "Turkey",
            "workload": bricks["workload"],
            "potential": 0.0,
            "current_owner": "rep_" + bricks["current_rep"].astype(str),
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": [f"rep_{i}" for i in range(1, 5)],
            "role": "rep",
            "segment": "Turkey",
            "capacity_fte": 1.0,
            "status": "active",
        }
    )
    cost = distances.copy()
    cost.index = cost.index.astype(str)
    return accounts, reps, cost


def test_balance_books_with_a_cost_matrix_and_workload_metric(pfizer):
    bricks, distances = pfizer
    accounts, reps, cost = _frames(bricks, distances)
    params = BalanceParams(
        balance_metric="workload",
        tau=0.2,  # the mean load is 1.0: +/-20% is the band [0.8, 1.2]
        compactness_basis={"accounts": 1.0},
        continuity_weight=0.0,
        soft_bands={
            "workload": {"enabled": False},
            "accounts": {"enabled": False},
            "customer_share": {"enabled": False},
            "intent": {"enabled": False},
        },
        protection={"open_opportunity_customers": False},
        mip_gap=0.0,
    )
    result = balance_books(accounts, reps, params, cost=cost)
    assert result.report["objective"] == pytest.approx(154.60, abs=1e-6)
    rep = result.assignments["rep_id"].str.removeprefix("rep_").astype(int).to_numpy() - 1
    assert total_distance(distances, rep) == pytest.approx(154.60, abs=1e-9)
    assert (result.books["deviation"].abs() <= 0.2 + 1e-6).all()

    disruption = params.model_copy(
        update={
            "compactness_weight": 0.0,
            "continuity_weight": 1.0,
            "continuity_basis": {"workload": 1.0},
        }
    )
    result = balance_books(accounts, reps, disruption, cost=cost)
    moved = result.assignments[result.assignments["moved"]]
    assert moved["account_id"].tolist() == ["11", "12"]
    assert (moved["rep_id"] == "rep_3").all()
    assert bricks["workload"].to_numpy()[moved.index].sum() == pytest.approx(0.1696, abs=1e-12)
