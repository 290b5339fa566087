"""Actuals as of a day, attainment, pacing, coverage and the allocation to industries and places,
on the tiny hand-made plan whose answers are worked out below."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from test_monitor_support import AS_OF, END, START, tiny_plan

from plan_lib.errors import InputError
from plan_lib.monitor import opportunities_as_of
from plan_lib.monitor.actuals import actuals_as_of, win_rates
from plan_lib.monitor.attainment import attainment_table, expected_share
from plan_lib.monitor.params import MonitorParams
from plan_lib.monitor.plan import build_plan

PARAMS = MonitorParams(win_rate_prior=0.0, pacing="linear")


def table(params: MonitorParams = PARAMS, as_of: dt.date = AS_OF, quotas: pd.DataFrame | None = None) -> pd.DataFrame:
    tables, assignments, q = tiny_plan()
    plan = build_plan(tables, assignments, q if quotas is None else quotas)
    actuals = actuals_as_of(tables["opportunities"], plan, as_of, START, END, params.credit)
    rate, company = win_rates(actuals, plan, params.win_rate_days, params.win_rate_prior)
    return attainment_table(plan, actuals, rate, company, params, START, END).set_index(["level", "unit_id"])


def test_opportunities_as_of_replays_the_extract():
    tables, _, _ = tiny_plan()
    view = opportunities_as_of(tables["opportunities"], AS_OF).set_index("opportunity_id")
    assert "O6" not in view.index  # created after as_of: did not exist yet
    assert view.at["O2", "stage"] == "open" and pd.isna(view.at["O2", "close_date"])  # won after as_of: open then
    assert view.at["O1", "stage"] == "won" and view.at["O5", "stage"] == "won"  # O5 closes on as_of itself
    assert view.at["O3", "stage"] == "lost" and view.at["O4", "stage"] == "open"
    earlier = opportunities_as_of(tables["opportunities"], dt.date(2027, 1, 9)).set_index("opportunity_id")
    assert earlier.at["O1", "stage"] == "open" and "O5" not in earlier.index  # O5 was created on the 10th


def test_rep_attainment_pacing_and_pipeline_by_stage():
    t = table()
    r1, r2, r3 = t.loc[("rep", "R1")], t.loc[("rep", "R2")], t.loc[("rep", "R3")]
    assert r1["bookings"] == 30 and r1["attainment"] == pytest.approx(0.30)
    assert r1["expected_share"] == pytest.approx(45 / 90)
    assert r1["pacing"] == pytest.approx(0.30 / 0.5)
    assert r3["bookings"] == 150 and r3["pacing"] == pytest.approx(1.0) and bool(r3["on_track"])
    assert not bool(r1["on_track"])
    assert (r2["bookings"], r2["lost_deals"], r2["lost_amount"], r2["open_deals"], r2["open_pipeline"]) == (0, 1, 40, 1, 100)
    assert (r1["open_deals"], r1["open_pipeline"], r1["won_deals"]) == (1, 50, 1)  # O2 was still open on as_of


def test_coverage_uses_each_reps_win_rate():
    t = table()
    # R1 closed 30 won + 70 lost in the last year: 30%; its open 50 is worth 15 against 70 still to book
    assert t.loc[("rep", "R1"), "win_rate"] == pytest.approx(0.3)
    assert t.loc[("rep", "R1"), "coverage"] == pytest.approx(15 / 70)
    assert t.loc[("rep", "R2"), "expected_pipeline"] == pytest.approx(0.0)  # lost its only closed deal


def test_shrinkage_pulls_a_thin_record_toward_the_segment():
    thin = table(MonitorParams(win_rate_prior=1000.0, pacing="linear"))
    # SMB's pooled rate is 30 / (30 + 70 + 40) = 3/14; with a huge prior R2's rate is almost that
    assert thin.loc[("rep", "R2"), "win_rate"] == pytest.approx(3 / 14, rel=0.02)


def test_teams_segments_and_company_roll_up():
    t = table()
    assert t.loc[("team", "M1"), "quota"] == 300 and t.loc[("team", "M1"), "bookings"] == 30
    assert t.loc[("team", "VP1"), "bookings"] == 180 and t.loc[("team", "VP1"), "n_reps"] == 3
    assert t.loc[("segment", "SMB"), "attainment"] == pytest.approx(30 / 300)
    assert t.loc[("region", "East"), "attainment"] == pytest.approx(150 / 300)
    company = t.loc[("company", "(company)")]
    assert company["attainment"] == pytest.approx(180 / 600) and company["pacing"] == pytest.approx(0.6)


def test_industry_and_places_get_quota_by_share_of_potential():
    t = table()
    # R1: A1 60 + A2 40 (both Software); R2: A3 (Retail); R3: A4 100 (Software) + A5 300 (Retail)
    assert t.loc[("industry", "Software"), "quota"] == pytest.approx(100 + 300 * 0.25)
    assert t.loc[("industry", "Retail"), "quota"] == pytest.approx(200 + 300 * 0.75)
    assert t.loc[("industry", "Software"), "bookings"] == 180  # O1 on A1, O5 on A4
    assert t.loc[("state", "CA"), "quota"] == pytest.approx(100 * 0.6 + 200)
    assert t.loc[("state", "OR"), "quota"] == pytest.approx(40)
    for level in ("industry", "state", "county"):
        assert t.loc[level, "quota"].sum() == pytest.approx(600)
        assert t.loc[level, "fte"].sum() == pytest.approx(3.0)
    assert t.loc[("state", "NY"), "n_reps"] == 1
    # penetration: 180 booked against 580 x 45 / 365.25 of potential expected so far
    assert t.loc[("company", "(company)"), "penetration"] == pytest.approx(180 / (580 * 45 / 365.25))


def test_seasonal_split_sets_the_expected_share():
    tables, assignments, quotas = tiny_plan()
    quotas = quotas.assign(quota_m1=[50.0, 80.0, 100.0], quota_m2=[25.0, 60.0, 100.0], quota_m3=[25.0, 60.0, 100.0])
    plan = build_plan(tables, assignments, quotas)
    share = expected_share(plan, START, END, (AS_OF - dt.date(1970, 1, 1)).days, "seasonal")
    # January whole, 14 of February's 28 days
    assert share == pytest.approx([(50 + 12.5) / 100, (80 + 30) / 200, (100 + 50) / 300])
    t = table(MonitorParams(win_rate_prior=0.0), quotas=quotas)
    assert t.loc[("rep", "R1"), "pacing"] == pytest.approx(30 / 62.5)


def test_owner_credit_follows_the_crm_owner():
    tables, assignments, quotas = tiny_plan()
    tables["opportunities"].loc[tables["opportunities"]["opportunity_id"] == "O1", "owner_rep_id"] = "R2"
    params = MonitorParams(credit="owner", win_rate_prior=0.0, pacing="linear")
    plan = build_plan(tables, assignments, quotas)
    actuals = actuals_as_of(tables["opportunities"], plan, AS_OF, START, END, "owner")
    rate, company = win_rates(actuals, plan, 365, 0.0)
    t = attainment_table(plan, actuals, rate, company, params, START, END).set_index(["level", "unit_id"])
    assert t.loc[("rep", "R2"), "bookings"] == 30 and t.loc[("rep", "R1"), "bookings"] == 0
    assert t.loc[("industry", "Software"), "bookings"] == 180  # places and industries do not depend on credit


def test_before_the_period_nothing_is_expected_yet():
    t = table(as_of=dt.date(2026, 12, 31))
    assert t.loc[("company", "(company)"), "bookings"] == 0
    assert t.loc[("company", "(company)"), "expected_share"] == 0
    assert np.isnan(t.loc[("company", "(company)"), "pacing"])


def test_missing_potential_says_where_to_get_it():
    tables, assignments, quotas = tiny_plan()
    with pytest.raises(InputError, match="scores"):
        build_plan(tables, assignments.drop(columns="potential"), quotas)
    scores = pd.DataFrame({"account_id": ["A1", "A2", "A3", "A4", "A5"], "potential": [1.0, 2.0, 3.0, 4.0, 5.0]})
    plan = build_plan({**tables, "scores": scores}, assignments.drop(columns="potential"), quotas)
    assert plan.reps.set_index("rep_id")["potential"].to_dict() == {"R1": 3.0, "R2": 3.0, "R3": 9.0}


def test_quotas_naming_unknown_reps_are_refused():
    tables, assignments, quotas = tiny_plan()
    with pytest.raises(InputError, match="R9"):
        build_plan(tables, assignments, pd.concat([quotas, pd.DataFrame({"rep_id": ["R9"], "quota": [1.0]})]))
