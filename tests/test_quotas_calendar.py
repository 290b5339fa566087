"""Ramp day by day, history periods, seasonal weights: the calendar arithmetic behind quotas."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from plan_lib.quotas.history import summarise_history
from plan_lib.quotas.params import SeasonalityParams
from plan_lib.quotas.ramp import period_days, ramp_factors, ramp_profile, to_day_array
from plan_lib.quotas.seasonality import day_weights, seasonal_split, sub_periods

SCHEDULE = [0.25, 0.5, 0.75, 1.0]


def test_ramp_months_count_from_the_start_day():
    days = period_days(dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    profile = ramp_profile(to_day_array(["2027-01-15"]), days, SCHEDULE)[0]
    assert profile[13] == 0.0  # 14 January: not started
    assert profile[14] == 0.25  # 15 January: month 1
    assert profile[44] == 0.25 and profile[45] == 0.5  # 14 Feb still month 1, 15 Feb month 2
    assert profile[-1] == 0.75  # 31 March: month 3


def test_missing_start_means_fully_ramped_and_factors_average_the_days():
    factors = ramp_factors(to_day_array([None, "2026-12-01", "2027-04-01"]), dt.date(2027, 1, 1), dt.date(2027, 3, 31), SCHEDULE)
    assert factors[0] == 1.0
    assert factors[1] == pytest.approx((31 * 0.5 + 28 * 0.75 + 31 * 1.0) / 90)
    assert factors[2] == 0.0


def test_history_keeps_the_last_periods_and_ramp_adjusts_them():
    history = pd.DataFrame({
        "period": ["2026Q2", "2026Q3", "2026Q4", "2027Q1"],
        "rep_id": ["R1"] * 4,
        "quota": [10.0, 20.0, 30.0, 99.0],
        "bookings": [5.0, 10.0, 15.0, 99.0],
    })
    starts = pd.Series(pd.to_datetime(["2026-10-01"]), index=["R1"])
    out = summarise_history(history, "2027Q1", dt.date(2027, 1, 1), dt.date(2027, 3, 31), starts, SCHEDULE, 2)
    assert out.last_period == "2026Q4"
    assert out.last_quota["R1"] == 30.0
    assert sorted(out.observations["period"]) == ["2026Q3", "2026Q4"]  # the plan period itself never counts
    q4 = out.observations.set_index("period").loc["2026Q4"]
    assert q4["ramp"] == pytest.approx((31 * 0.25 + 30 * 0.5 + 31 * 0.75) / 92)
    assert out.run_rate()["R1"] == pytest.approx(15.0 / (q4["ramp"] * 92))  # Q3: not started, no exposure


def test_unreadable_history_periods_are_noted():
    history = pd.DataFrame({"period": ["FY26-4"], "rep_id": ["R1"], "quota": [1.0], "bookings": [1.0]})
    out = summarise_history(history, "FY27-1", dt.date(2027, 1, 1), dt.date(2027, 3, 31), pd.Series(dtype="datetime64[s]"), SCHEDULE, 4)
    assert out.last_period == "FY26-4"
    assert "not readable" in out.notes[0]


def test_monthly_weights_count_partial_months_by_days():
    days = period_days(dt.date(2027, 1, 16), dt.date(2027, 3, 15))
    params = SeasonalityParams(weights=[1.0] * 12)
    units = sub_periods(days, params)
    assert units.names == ["2027-01", "2027-02", "2027-03"]
    weights = day_weights(days, params)
    january = weights[units.day_unit == 0].sum() / 30.4375
    assert january == pytest.approx(16 / 31)


def test_quarter_split_follows_weights_and_sums_exactly():
    days = period_days(dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    params = SeasonalityParams(granularity="quarter", weights=[1.0, 1.0, 1.0, 2.0])
    units, split = seasonal_split(np.array([500_000.0]), np.ones((1, len(days))), days, params, 1000)
    assert units.labels == ["q1", "q2", "q3", "q4"]
    assert split[0].sum() == 500_000.0
    assert split[0] == pytest.approx([100_000, 100_000, 100_000, 200_000], abs=1000)
