"""Recommendations appear for planted problems (and only for them) on the balanced grid plan; a
departure moves only the leaver's book and pro-rates quotas so that every sum holds."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from test_monitor_support import AS_OF, END, START, grid_plan

from plan_lib.monitor import MonitorParams, monitor_plan

FAST = {"forecast": {"statsmodels_max_units": 0}}  # pooled models only: these tests are about recommendations


def run(tables, assignments, quotas, params: MonitorParams | None = None):
    return monitor_plan(tables, assignments, quotas, None, params or MonitorParams(**FAST), AS_OF, START, END)


def of_kind(result, kind: str) -> pd.DataFrame:
    return result.recommendations[result.recommendations["kind"] == kind]


def test_a_balanced_plan_gets_no_recommendation():
    result = run(*grid_plan())
    assert result.recommendations.empty, result.recommendations["headline"].tolist()
    assert result.moves.empty and result.quota_changes.empty


def test_an_overloaded_book_gets_a_limited_rebalance():
    tables, assignments, quotas = grid_plan()
    heavy = assignments["rep_id"] == "R1"
    assignments.loc[heavy, "potential"] *= 2.0  # R1: +85% potential per FTE over the segment mean
    result = run(tables, assignments, quotas)
    resize = of_kind(result, "resize")
    assert resize["unit_id"].tolist() == ["R1"]
    rec = resize.iloc[0]
    moves = result.moves[result.moves["recommendation_id"] == rec["recommendation_id"]]
    assert len(moves) == rec["accounts_to_move"] > 0
    assert set(moves["from_rep_id"]) == {"R1"}  # only the overloaded book gives accounts away
    # accounts with a deal in flight (open or booked this period) stay
    busy = set(tables["opportunities"].loc[tables["opportunities"]["close_date"].isna()
                                           | (tables["opportunities"]["close_date"] >= pd.Timestamp(START)), "account_id"])
    assert not busy & set(moves["account_id"])
    # the move cap: at most 10% of the neighbourhood's accounts
    neighbourhood = json.loads(rec["metrics"])["neighbourhood"]
    assert len(moves) <= 0.1 * 20 * len(neighbourhood)
    assert json.loads(rec["metrics"])["deviation_after"] < json.loads(rec["metrics"])["deviation"]
    assert "R1" in rec["reasoning"] and "%" in rec["reasoning"]
    changes = result.quota_changes[result.quota_changes["recommendation_id"] == rec["recommendation_id"]]
    assert changes["change"].sum() == pytest.approx(0.0, abs=1e-6)
    assert changes.set_index("rep_id").at["R1", "change"] < 0
    assert set(of_kind(result, "invest")["unit_id"]) == set() and of_kind(result, "headcount").empty


def test_an_under_covered_zone_gets_an_invest_recommendation():
    tables, assignments, quotas = grid_plan()
    opps = tables["opportunities"]
    texas = set(tables["accounts"].loc[tables["accounts"]["state"] == "TX", "account_id"])
    tables["opportunities"] = opps[~(opps["account_id"].isin(texas) & (opps["stage"] == "open"))].reset_index(drop=True)
    result = run(tables, assignments, quotas)
    invest = of_kind(result, "invest")
    assert invest["unit_id"].tolist() == ["TX"]
    assert "coverage" in invest["reasoning"].iat[0] and invest["priority"].iat[0] > 0
    assert of_kind(result, "resize").empty and of_kind(result, "headcount").empty


def test_a_region_short_of_people_gets_a_headcount_recommendation():
    tables, assignments, quotas = grid_plan()
    east = tables["accounts"]["state"].isin(["NY", "FL"]).to_numpy()
    assignments.loc[east, "potential"] *= 2.0  # East: 40k per FTE against a segment capacity of 26.7k
    result = run(tables, assignments, quotas)
    headcount = of_kind(result, "headcount")
    assert headcount["unit_id"].tolist() == ["SMB / East"]
    assert headcount["reps_to_add"].iat[0] == 2  # 160k / 26.7k = 6 FTE needed, 4 there
    metrics = json.loads(headcount["metrics"].iat[0])
    assert metrics["fte_needed"] == pytest.approx(6.0)


def test_a_leaving_rep_hands_over_the_book_and_nothing_else_moves():
    tables, assignments, quotas = grid_plan()
    tables["reps"].loc[tables["reps"]["rep_id"] == "R5", "status"] = "leaving"
    result = run(tables, assignments, quotas)
    leaving = of_kind(result, "rep_leaving")
    assert leaving["unit_id"].tolist() == ["R5"]
    rid = leaving["recommendation_id"].iat[0]
    moves = result.moves[result.moves["recommendation_id"] == rid]
    book = set(assignments.loc[assignments["rep_id"] == "R5", "account_id"])
    assert set(moves["account_id"]) == book  # the whole book, and only it
    assert set(moves["from_rep_id"]) == {"R5"} and "R5" not in set(moves["to_rep_id"])
    assert leaving["effective_date"].iat[0] == AS_OF + dt.timedelta(days=1)
    changes = result.quota_changes[result.quota_changes["recommendation_id"] == rid].set_index("rep_id")
    quota = quotas.set_index("rep_id")["quota"]
    assert changes["quota_after"].sum() == pytest.approx(changes["quota_before"].sum())
    assert changes.at["R5", "quota_after"] == pytest.approx(quota["R5"] * 45 / 90)  # keeps what was due by as_of
    received = moves.groupby("to_rep_id")["potential"].sum()
    for rep, potential in received.items():  # the rest follows the potential each colleague takes
        assert changes.at[rep, "change"] == pytest.approx(quota["R5"] * 45 / 90 * potential / received.sum())
    untouched = set(quota.index) - set(changes.index)
    assert untouched and not (set(moves["to_rep_id"]) & untouched)


def test_a_departure_from_a_later_date_keeps_more_quota():
    tables, assignments, quotas = grid_plan()
    params = MonitorParams(leaving={"reps": {"R2": "2027-03-01"}}, **FAST)
    result = run(tables, assignments, quotas, params)
    changes = result.quota_changes.set_index("rep_id")
    quota = quotas.set_index("rep_id")["quota"]
    assert changes.at["R2", "quota_after"] == pytest.approx(quota["R2"] * 59 / 90)
    assert of_kind(result, "rep_leaving")["effective_date"].iat[0] == dt.date(2027, 3, 1)
    assert changes["change"].sum() == pytest.approx(0.0, abs=1e-6)


def test_outputs_are_complete_and_serialisable():
    tables, assignments, quotas = grid_plan()
    assignments.loc[assignments["rep_id"] == "R1", "potential"] *= 2.0
    result = run(tables, assignments, quotas)
    json.dumps(result.report)
    for frame in (result.attainment, result.forecast, result.recommendations, result.flags, result.weekly, result.moves,
                  result.quota_changes):
        assert len(frame.columns) and frame.columns.is_unique
    rec = result.recommendations.iloc[0]
    assert isinstance(json.loads(rec["metrics"]), dict) and rec["headline"] and rec["reasoning"]
    company = result.attainment[result.attainment["level"] == "company"].iloc[0]
    for level in ("rep", "segment", "industry", "state"):
        rows = result.attainment[result.attainment["level"] == level]
        assert rows["quota"].sum() == pytest.approx(company["quota"])
    probability = result.forecast["prob_reach_quota"].dropna()
    assert ((probability >= 0) & (probability <= 1)).all()
    assert np.all(result.forecast["lower"] <= result.forecast["forecast_bookings"] + 1e-9)
    assert np.all(result.forecast["forecast_bookings"] <= result.forecast["upper"] + 1e-9)
