"""monitor_plan end to end on ingested demo data, checked against sums computed independently with pandas;
the charts; the choice of the monitoring day."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from test_monitor_support import AS_OF, END, START, grid_plan

from plan_lib.demo import generate_demo_data, write_demo_data
from plan_lib.errors import ParameterError
from plan_lib.ingest import ingest
from plan_lib.monitor import MonitorParams, monitor_plan
from plan_lib.monitor.charts import attainment_distribution, trend_lines, watch_list
from plan_lib.sources import read_inputs


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = generate_demo_data(n_accounts=3000, n_reps=20, seed=3)
    folder = tmp_path_factory.mktemp("demo")
    write_demo_data(data, folder)
    tables = ingest(read_inputs(str(folder))).tables
    scores = data.truth["account_truth"].rename(columns={"expected_annual_bookings": "potential", "true_segment": "segment"})
    tables["scores"] = scores[["account_id", "segment", "potential"]]
    accounts = tables["accounts"]
    assignments = pd.DataFrame({"account_id": accounts["account_id"], "rep_id": accounts["current_owner"]})
    holders = set(assignments["rep_id"].dropna())
    reps = tables["reps"][tables["reps"]["rep_id"].isin(holders)]
    potential = assignments.merge(scores, on="account_id").groupby("rep_id")["potential"].sum()
    quotas = pd.DataFrame({"rep_id": reps["rep_id"].to_numpy(), "quota": reps["rep_id"].map(potential).to_numpy() / 4})
    for k, share in enumerate((0.3, 0.33, 0.37), start=1):
        quotas[f"quota_m{k}"] = quotas["quota"] * share
    return tables, assignments, quotas


@pytest.mark.slow
def test_demo_monitoring_agrees_with_an_independent_count(demo):
    tables, assignments, quotas = demo
    as_of = dt.date(2027, 2, 11)
    result = monitor_plan(tables, assignments, quotas, None, MonitorParams(), as_of, dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    opps = tables["opportunities"]
    holder = assignments.set_index("account_id")["rep_id"]
    booked = opps[(opps["stage"] == "won") & (opps["close_date"] >= "2027-01-01") & (opps["close_date"] <= "2027-02-11")]
    expected = booked.assign(rep=booked["account_id"].map(holder)).dropna(subset=["rep"]).groupby("rep")["amount"].sum()
    reps = result.attainment[result.attainment["level"] == "rep"].set_index("unit_id")
    assert reps["bookings"].to_dict() == pytest.approx(expected.reindex(reps.index).fillna(0.0).to_dict())
    open_then = opps[(opps["created_date"] <= "2027-02-11") & ((opps["stage"] == "open") | (opps["close_date"] > "2027-02-11"))]
    company = result.attainment[result.attainment["level"] == "company"].iloc[0]
    on_plan = open_then["account_id"].map(holder).notna()
    assert company["open_pipeline"] == pytest.approx(open_then.loc[on_plan, "amount"].sum())
    fc = result.forecast
    assert set(fc.loc[fc["level"] == "rep", "unit_id"]) == set(quotas["rep_id"])
    assert fc["method"].isin(["statsmodels", "state_space_pooled", "run_rate"]).all()
    assert result.report["as_of"] == "2027-02-11" and result.report["elapsed_share"] == pytest.approx(42 / 90)
    json.dumps(result.report)
    figure = attainment_distribution(result.attainment, result.forecast)
    assert isinstance(figure, Figure) and len(figure.axes) == 2
    units = watch_list(result.forecast, "rep", 4) + [("company", "(company)")]
    assert isinstance(trend_lines(result.weekly, result.forecast, units), Figure)


def test_the_monitoring_day_defaults_to_the_latest_date_in_the_extract():
    tables, assignments, quotas = grid_plan()
    params = MonitorParams(forecast={"statsmodels_max_units": 0})
    result = monitor_plan(tables, assignments, quotas, None, params, None, START, END)
    latest = max(tables["opportunities"]["close_date"].max(), tables["opportunities"]["created_date"].max()).date()
    assert result.report["as_of"] == min(latest, END).isoformat()
    assert result.report["as_of_source"] == "latest date in the opportunities"
    pinned = monitor_plan(tables, assignments, quotas, None, params.model_copy(update={"as_of": AS_OF}), None, START, END)
    assert pinned.report["as_of"] == AS_OF.isoformat() and pinned.report["as_of_source"] == "parameters"


def test_the_weekly_table_ends_on_the_monitoring_day_and_reaches_the_period_end():
    tables, assignments, quotas = grid_plan()
    result = monitor_plan(tables, assignments, quotas, None, MonitorParams(forecast={"statsmodels_max_units": 0}), AS_OF, START, END)
    company = result.weekly[result.weekly["unit_id"] == "(company)"]
    observed, ahead = company[company["phase"] == "observed"], company[company["phase"] == "forecast"]
    assert observed["week_end"].max() == pd.Timestamp(AS_OF) and ahead["week_end"].max() == pd.Timestamp(END)
    assert np.all(np.diff(ahead["cumulative"].to_numpy()) >= -1e-9)
    assert (ahead["cumulative_lower"] <= ahead["cumulative"] + 1e-9).all()
    booked = result.attainment.set_index(["level", "unit_id"]).loc[("company", "(company)"), "bookings"]
    assert observed["cumulative"].iat[-1] == pytest.approx(booked)


def test_a_missing_period_is_a_parameter_error():
    tables, assignments, quotas = grid_plan()
    with pytest.raises(ParameterError, match="period"):
        monitor_plan(tables, assignments, quotas, None, MonitorParams(), AS_OF, None, END)


def test_outputs_write_to_parquet_and_charts_draw(tmp_path):
    tables, assignments, quotas = grid_plan()
    tables["reps"].loc[tables["reps"]["rep_id"] == "R5", "status"] = "leaving"
    result = monitor_plan(tables, assignments, quotas, None, MonitorParams(forecast={"statsmodels_max_units": 0}), AS_OF, START, END)
    assert len(result.recommendations) and len(result.moves) and len(result.quota_changes)
    for name in ("attainment", "forecast", "recommendations", "flags", "weekly", "moves", "quota_changes"):
        frame = getattr(result, name)
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
        back = pd.read_parquet(tmp_path / f"{name}.parquet")
        assert back.shape == frame.shape
    figure = attainment_distribution(result.attainment, result.forecast, level="rep")
    assert len(figure.axes) == 2 and "on track" in figure.axes[0].get_title()
    units = watch_list(result.forecast, "rep", 2) + [("company", "(company)")]
    assert len(units) == 3
    lines = trend_lines(result.weekly, result.forecast, units)
    assert sum(ax.get_visible() for ax in lines.axes) == 2 * len(units)  # each panel and its right axis
