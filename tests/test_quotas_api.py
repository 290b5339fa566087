"""set_quotas end to end on a small hand-made organisation.

VP -> D1 -> M1 (R1, R2, R3; L1 is leaving)
          -> M2 (R4, R5; N1 is open headcount starting 2027-02-01)
          -> M3 (E1 West, E2 East)
Targets 2027Q1: SMB / West 1,000,000; Enterprise / all regions 2,000,000.
Default over-assignment: rep 1.10, manager 1.05, so rep quotas of a row add up
to 1.155 x its target.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from pydantic import ValidationError

from plan_lib.errors import InputError
from plan_lib.quotas import (
    QuotaParams,
    SeasonalityParams,
    quota_vs_potential,
    rollup_by_level,
    set_quotas,
)
from plan_lib.quotas.hierarchy import ROOT

START, END = dt.date(2027, 1, 1), dt.date(2027, 3, 31)
SMB = ["R1", "R2", "R3", "R4", "R5", "N1"]
GROSS = 1.10 * 1.05


def reps() -> pd.DataFrame:
    rows = [
        ("VP", "vp", "", "", "", "2015-01-01", 0.0, "active"),
        ("D1", "director", "VP", "", "", "2015-01-01", 0.0, "active"),
        ("M1", "manager", "D1", "SMB", "West", "2016-01-01", 0.0, "active"),
        ("M2", "manager", "D1", "SMB", "West", "2016-01-01", 0.0, "active"),
        ("M3", "manager", "D1", "Enterprise", "", "2016-01-01", 0.0, "active"),
        ("R1", "rep", "M1", "SMB", "West", "2020-01-01", 1.0, "active"),
        ("R2", "rep", "M1", "SMB", "West", "2020-01-01", 1.0, "active"),
        ("R3", "rep", "M1", "SMB", "West", "2020-01-01", 1.0, "active"),
        ("L1", "rep", "M1", "SMB", "West", "2020-01-01", 1.0, "leaving"),
        ("R4", "rep", "M2", "SMB", "West", "2020-01-01", 1.0, "active"),
        ("R5", "rep", "M2", "SMB", "West", "2020-01-01", 1.0, "active"),
        ("N1", "rep", "M2", "SMB", "West", "2027-02-01", 1.0, "open"),
        ("E1", "rep", "M3", "Enterprise", "West", "2019-01-01", 1.0, "active"),
        ("E2", "rep", "M3", "Enterprise", "East", "2019-01-01", 1.0, "active"),
    ]
    return pd.DataFrame(rows, columns=["rep_id", "role", "manager_id", "segment", "region", "start_date",
                                       "capacity_fte", "status"])


def books() -> pd.DataFrame:
    return pd.DataFrame({
        "rep_id": SMB + ["E1", "E2"],
        "segment": ["SMB"] * 6 + ["Enterprise"] * 2,
        "region": ["West"] * 6 + ["West", "East"],
        "potential": [100.0, 200.0, 300.0, 150.0, 250.0, 400.0, 1000.0, 3000.0],
        "fte": 1.0,
    })


def targets() -> pd.DataFrame:
    return pd.DataFrame({"period": ["2027Q1", "2027Q1", "2026Q4"], "segment": ["SMB", "Enterprise", "SMB"],
                         "region": ["West", "", "West"], "bookings_target": [1_000_000.0, 2_000_000.0, 5.0]})


def run(params: QuotaParams | None = None, *, book=None, history=None, adjustments=None, target=None, roster=None):
    return set_quotas(book if book is not None else books(), roster if roster is not None else reps(),
                      target if target is not None else targets(), params or QuotaParams(), "2027Q1", START, END,
                      history, adjustments)


def by_rep(result) -> pd.DataFrame:
    return result.quotas.set_index("rep_id")


def assert_sums_exact(result, params: QuotaParams | None = None) -> None:
    """Every node = sum of children / their factor; every target row = its reps' contributions; root = targets."""
    factor = (params or QuotaParams()).over_assignment.factor
    roll = result.rollup.set_index("node_id")
    for node, row in roll[roll["n_children"] > 0].iterrows():
        children = roll[roll["parent_id"] == node]
        assert row["children_sum"] == pytest.approx(children["quota"].sum(), rel=1e-12)
        assert row["quota"] == pytest.approx((children["quota"] / children["role"].map(factor)).sum(), rel=1e-12)
    assert roll.loc[ROOT, "quota"] == pytest.approx(3_000_000.0, rel=1e-12)
    quotas = by_rep(result)
    assert quotas.loc[SMB, "quota"].sum() / GROSS == pytest.approx(1_000_000.0, rel=1e-12)


def test_every_level_sums_exactly_after_rounding():
    result = run()
    assert_sums_exact(result)
    quotas = result.quotas
    assert (quotas["quota"] % 1000 == 0).all()
    assert not quotas["off_grid"].any()
    roll = result.rollup.set_index("node_id")
    assert roll.loc["M1", "over_assignment"] == pytest.approx(1.10)
    assert roll.loc["D1", "over_assignment"] == pytest.approx(1.05)
    assert result.report["target_gap"] < 1e-6


def test_a_target_off_the_grid_still_sums_exactly_with_one_plug():
    result = run(target=targets().assign(bookings_target=[1_234_567.0, 2_000_000.0, 5.0]))
    quotas = by_rep(result)
    assert quotas.loc[SMB, "quota"].sum() / GROSS == pytest.approx(1_234_567.0, rel=1e-12)
    assert quotas["off_grid"].sum() == 1
    assert any(d.code == "off_grid" for d in result.diagnostics)


def test_potential_index_gives_quotas_proportional_to_potential_when_nothing_binds():
    result = run(QuotaParams(rounding=None))
    quotas = by_rep(result)
    for members, target in ((SMB, 1_000_000.0), (["E1", "E2"], 2_000_000.0)):
        weight = quotas.loc[members, "potential"] * quotas.loc[members, "ramp_factor"]
        expected = target * GROSS * weight / weight.sum()
        assert quotas.loc[members, "quota"].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-6)
        assert quotas.loc[members, "ideal"].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-12)
    fully_ramped = quotas.loc[["R1", "R2", "R3", "R4", "R5"], "quota_to_potential"]
    assert fully_ramped.max() == pytest.approx(fully_ramped.min(), rel=1e-6)


def test_open_headcount_is_pro_rated_from_its_planned_start():
    result = run(QuotaParams(rounding=None))
    n1 = by_rep(result).loc["N1"]
    # February (28 days) in ramp month 1 at 0.25, March (31 days) in month 2 at 0.5, January not employed
    assert n1["ramp_factor"] == pytest.approx((28 * 0.25 + 31 * 0.5) / 90)
    r1 = by_rep(result).loc["R1"]
    assert n1["quota"] / 400.0 == pytest.approx(n1["ramp_factor"] * r1["quota"] / 100.0, rel=1e-6)
    assert n1["quota_m1"] == 0.0
    assert n1["quota_m3"] > n1["quota_m2"] > 0


def test_open_headcount_starting_after_the_period_gets_no_quota():
    roster = reps()
    roster.loc[roster["rep_id"] == "N1", "start_date"] = "2027-05-01"
    result = run(roster=roster)
    assert by_rep(result).loc["N1", "quota"] == 0.0
    assert_sums_exact(result)


def test_a_leaving_rep_gets_no_quota():
    result = run()
    assert "L1" not in set(result.quotas["rep_id"])
    assert "L1" not in set(result.rollup["node_id"])
    with_book = pd.concat([books(), pd.DataFrame({"rep_id": ["L1"], "segment": ["SMB"], "region": ["West"],
                                                  "potential": [500.0], "fte": [1.0]})])
    result = run(book=with_book)
    assert by_rep(result).loc["L1", "quota"] == 0.0
    assert any(d.code == "leaving_with_book" and "L1" in d.rep_ids for d in result.diagnostics)
    assert_sums_exact(result)


def history(last: dict[str, float], bookings: dict[str, float] | None = None) -> pd.DataFrame:
    bookings = bookings or {}
    return pd.DataFrame({"period": "2026Q4", "rep_id": list(last), "quota": list(last.values()),
                         "bookings": [bookings.get(r, np.nan) for r in last]})


def test_caps_on_change_are_honoured_and_flagged():
    # ideal of R1 is 105,000 (last 50,000 -> cap 62,500); R3's ideal 315,000 (last 500,000 -> floor of the cap 375,000)
    result = run(history=history({"R1": 50_000.0, "R3": 500_000.0, "R2": 210_000.0}))
    quotas = by_rep(result)
    assert quotas.loc["R1", "quota"] <= 62_500.0
    assert quotas.loc["R3", "quota"] >= 375_000.0
    assert quotas.loc["R1", "cap_binding"] and quotas.loc["R3", "cap_binding"]
    assert not quotas.loc["R4", "cap_binding"]
    assert 210_000 * 0.75 <= quotas.loc["R2", "quota"] <= 210_000 * 1.25
    assert not result.report["relaxed"]
    assert_sums_exact(result)


def test_floors_are_honoured():
    # R3's cap on decrease (375,000 vs an ideal of 315,000) pushes the others down to 92.9% of their ideal;
    # R1's absolute floor of 100,000 (ideal 105,000) stops it there, the others absorb the rest
    params = QuotaParams(floor_amount=100_000.0)
    result = run(params, history=history({"R3": 500_000.0}))
    quotas = by_rep(result)
    assert quotas.loc["R1", "quota"] >= 100_000.0
    assert quotas.loc["R1", "floor_binding"]
    assert not quotas.loc[["R2", "R4", "R5"], "floor_binding"].any()
    assert not result.report["relaxed"]
    assert_sums_exact(result)


def test_floors_that_cannot_hold_are_relaxed_and_named():
    # R3 may not fall under 375,000 and the others not under 95% of their ideal: 1.173M > 1.155M
    result = run(QuotaParams(floor_share=0.95), history=history({"R3": 500_000.0}))
    note = next(d for d in result.diagnostics if d.code == "caps_relaxed")
    assert "caps and floors require at least" in note.message
    assert note.rep_ids  # whoever gives is named
    assert result.quotas["relaxed"].sum() == len(note.rep_ids)
    assert_sums_exact(result)


def test_an_absolute_floor_is_scaled_by_ramp():
    result = run(QuotaParams(floor_amount=200_000.0, rounding=None))
    quotas = by_rep(result)
    assert quotas.loc["R1", "quota"] >= 200_000.0 - 1e-6
    assert quotas.loc["N1", "floor"] == pytest.approx(200_000.0 * quotas.loc["N1", "ramp_factor"])


def test_caps_that_cannot_all_hold_give_a_diagnostic_and_a_relaxed_solution():
    # caps allow 625,000 each (1.25M) but the Enterprise row needs 2.31M; E2 has 3x the potential of E1
    result = run(history=history({"E1": 500_000.0, "E2": 500_000.0}))
    assert result.report["relaxed"]
    note = next(d for d in result.diagnostics if d.code == "caps_relaxed")
    assert note.rep_ids == ("E2",)
    assert "E2" in note.message and "Enterprise" in note.message and "1.25M" in note.message
    quotas = by_rep(result)
    assert quotas.loc["E1", "quota"] <= 625_000.0 and not quotas.loc["E1", "relaxed"]
    assert quotas.loc["E2", "relaxed"] and quotas.loc["E2", "cap_binding"]
    assert not quotas.loc[SMB, "relaxed"].any()
    assert_sums_exact(result)


def test_even_relaxation_breaches_every_cap_by_the_same_percent():
    params = QuotaParams(solver={"relaxation_spread": "even"})
    result = run(params, history=history({"E1": 500_000.0, "E2": 400_000.0}))
    note = next(d for d in result.diagnostics if d.code == "caps_relaxed")
    assert set(note.rep_ids) == {"E1", "E2"}
    quotas = by_rep(result)
    breach = quotas.loc[["E1", "E2"], "quota"] / quotas.loc[["E1", "E2"], "cap_high"] - 1
    assert breach.iloc[0] == pytest.approx(breach.iloc[1], abs=0.005)
    assert_sums_exact(result)


def test_a_reorg_re_rolls_every_node():
    base = run()
    moved = run(QuotaParams(reorg={"R3": "M2"}))
    assert by_rep(moved).loc["R3", "manager_id"] == "M2"
    pd.testing.assert_series_equal(by_rep(base)["quota"], by_rep(moved)["quota"])  # same depth: same rep quotas
    roll, quotas = moved.rollup.set_index("node_id"), by_rep(moved)
    assert roll.loc["M1", "quota"] == pytest.approx(quotas.loc[["R1", "R2"], "quota"].sum() / 1.1, rel=1e-12)
    assert roll.loc["M2", "quota"] == pytest.approx(quotas.loc[["R3", "R4", "R5", "N1"], "quota"].sum() / 1.1, rel=1e-12)
    assert roll.loc["M1", "potential"] == 300.0
    assert_sums_exact(moved)


def test_a_reorg_that_changes_depth_still_reconciles():
    moved = run(QuotaParams(reorg={"E2": "D1"}))
    roll = moved.rollup.set_index("node_id")
    assert roll.loc["E2", "level"] == 3
    assert_sums_exact(moved)
    quotas = by_rep(moved)
    # E1 reaches the company through 1.10 x 1.05, E2 through 1.10 only
    assert quotas.loc["E1", "quota"] / GROSS + quotas.loc["E2", "quota"] / 1.10 == pytest.approx(2_000_000.0, rel=1e-12)
    assert roll.loc[ROOT, "quota"] == pytest.approx(3_000_000.0, rel=1e-12)


def adjustment(rep_id: str, quota: float) -> pd.DataFrame:
    return pd.DataFrame({"rep_id": [rep_id], "quota": [quota], "author": ["dana"], "reason": ["new logo program"]})


def test_a_rep_adjustment_is_honoured_and_the_rest_rebalances():
    result = run(QuotaParams(rounding=None), adjustments=adjustment("R1", 200_000.0))
    quotas = by_rep(result)
    assert quotas.loc["R1", "quota"] == 200_000.0
    assert quotas.loc["R1", "adjusted"] and not quotas.loc["R2", "adjusted"]
    others = quotas.loc[["R2", "R3", "R4", "R5"]]
    ratio = others["quota"] / others["potential"]
    assert ratio.max() == pytest.approx(ratio.min(), rel=1e-6)
    assert_sums_exact(result)
    listed = result.adjustments.set_index("rep_id").loc["R1"]
    assert listed["applied"] and listed["author"] == "dana" and listed["reason"] == "new logo program"


def test_a_manager_adjustment_fixes_the_team_total():
    result = run(adjustments=adjustment("M1", 500_000.0))
    roll = result.rollup.set_index("node_id")
    assert roll.loc["M1", "quota"] == pytest.approx(500_000.0, rel=1e-12)
    assert roll.loc["M1", "children_sum"] == pytest.approx(550_000.0, rel=1e-12)
    assert (result.quotas["quota"] % 1000 == 0).all()
    assert_sums_exact(result)


def test_an_adjustment_above_the_target_is_refused_with_the_numbers():
    with pytest.raises(InputError, match="R1"):
        run(adjustments=adjustment("R1", 5_000_000.0))


def test_an_adjustment_of_someone_unknown_is_listed_not_applied():
    result = run(adjustments=adjustment("ZZ9", 1.0))
    assert not result.adjustments["applied"].any()
    assert any(d.code == "adjustment_ignored" and "ZZ9" in d.rep_ids for d in result.diagnostics)


def test_historical_method_follows_ramp_adjusted_past_bookings():
    last = {r: 100_000.0 for r in ["R1", "R2", "R3", "R4", "R5"]}
    booked = {"R1": 10_000.0, "R2": 20_000.0, "R3": 30_000.0, "R4": 40_000.0, "R5": 50_000.0}
    params = QuotaParams(method="historical", rounding=None, max_increase=None, max_decrease=None)
    quotas = by_rep(run(params, history=history(last, booked)))
    fixed = quotas.loc[["R1", "R2", "R3", "R4", "R5"], "quota"]
    assert (fixed / fixed["R1"]).to_numpy() == pytest.approx([1, 2, 3, 4, 5], rel=1e-6)
    # N1 has no history: its stand-in is its potential x the row's bookings per potential, times its ramp
    per_potential = sum(booked.values()) / (100 + 200 + 300 + 150 + 250)
    n1 = quotas.loc["N1"]
    assert n1["quota"] / fixed["R1"] == pytest.approx(400 * per_potential * n1["ramp_factor"] / 10_000.0, rel=1e-6)


def test_blend_mixes_the_two_ideals():
    last = {r: 100_000.0 for r in ["R1", "R2", "R3", "R4", "R5", "E1", "E2"]}
    booked = {"R1": 30_000.0, "R2": 20_000.0, "R3": 30_000.0, "R4": 10_000.0, "R5": 50_000.0, "E1": 1.0, "E2": 2.0}
    common = dict(rounding=None, max_increase=None, max_decrease=None)
    hist = history(last, booked)
    pot = by_rep(run(QuotaParams(**common), history=hist))["quota"]
    old = by_rep(run(QuotaParams(method="historical", **common), history=hist))["quota"]
    mix = by_rep(run(QuotaParams(method="blend", blend_weight=0.3, **common), history=hist))["quota"]
    assert mix.to_numpy() == pytest.approx((0.7 * pot + 0.3 * old).to_numpy(), rel=1e-6)


def test_monthly_seasonality_weights_and_exact_splits():
    weights = [2.0, 1.0, 1.0] + [1.0] * 9
    result = run(QuotaParams(seasonality=SeasonalityParams(weights=weights)))
    quotas = by_rep(result)
    r2 = quotas.loc["R2"]
    assert r2["quota_m1"] + r2["quota_m2"] + r2["quota_m3"] == r2["quota"]
    assert r2["quota_m1"] == pytest.approx(r2["quota"] / 2, abs=1000)
    assert (quotas[["quota_m1", "quota_m2", "quota_m3"]] % 1000 == 0).all().all()
    assert result.report["subperiods"] == ["2027-01", "2027-02", "2027-03"]
    assert len(result.seasonal) == 3 * len(quotas)


def test_quarterly_split_of_an_annual_plan():
    annual = targets().iloc[:2].assign(period="2027")
    result = set_quotas(books(), reps(), annual, QuotaParams(seasonality=SeasonalityParams(granularity="quarter")),
                        "2027", dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    quotas = by_rep(result)
    assert [c for c in quotas.columns if c.startswith("quota_q")] == ["quota_q1", "quota_q2", "quota_q3", "quota_q4"]
    assert quotas.loc["N1", "quota_q1"] < quotas.loc["N1", "quota_q4"]  # ramping through the year
    assert (quotas[["quota_q1", "quota_q2", "quota_q3", "quota_q4"]].sum(axis=1) == quotas["quota"]).all()


def test_capacity_check_bottom_up_and_plain_sentence():
    booked = {"R1": 90_000.0, "R2": 150_000.0, "R3": 180_000.0, "R4": 60_000.0, "R5": 120_000.0}
    hist = history({r: 100_000.0 for r in booked}, booked)
    result = run(QuotaParams(capacity_min_observations=3), history=hist)
    smb = result.capacity.set_index("segment").loc["SMB"]
    per_fte = sum(booked.values()) / (5 * 92) * 90  # 2026Q4 has 92 days, 2027Q1 90; all fully ramped
    ramp_n1 = (28 * 0.25 + 31 * 0.5) / 90
    assert smb["productivity_per_fte"] == pytest.approx(per_fte)
    assert smb["ramped_fte"] == pytest.approx(5 + ramp_n1)
    assert smb["capacity"] == pytest.approx(per_fte * (5 + ramp_n1))
    assert smb["gap"] == pytest.approx(1_000_000.0 - smb["capacity"])
    assert not smb["achievable"]
    assert smb["ramped_fte_needed"] == pytest.approx(smb["gap"] / per_fte)
    assert "not achievable" in smb["sentence"] and f"{smb['ramped_fte_needed']:.1f} fully ramped FTE" in smb["sentence"]
    assert 0.0 <= smb["expected_share_at_quota"] <= 1.0


def test_capacity_says_achievable_when_it_is():
    booked = {"R1": 400_000.0, "R2": 400_000.0, "R3": 400_000.0, "R4": 400_000.0, "R5": 400_000.0}
    hist = history({r: 100_000.0 for r in booked}, booked)
    smb = run(QuotaParams(capacity_min_observations=3), history=hist).capacity.set_index("segment").loc["SMB"]
    assert smb["achievable"] and "achievable with the current headcount" in smb["sentence"]
    assert smb["ramped_fte_needed"] == 0.0


def test_overlapping_targets_are_refused():
    overlapping = pd.concat([targets(), pd.DataFrame({"period": ["2027Q1"], "segment": ["SMB"], "region": [""],
                                                      "bookings_target": [1.0]})])
    with pytest.raises(InputError, match="both cover"):
        run(target=overlapping)


def test_reps_without_a_target_row_get_no_quota_and_a_diagnostic():
    result = run(target=targets().iloc[[0]])
    quotas = by_rep(result)
    assert (quotas.loc[["E1", "E2"], "quota"] == 0).all()
    assert any(d.code == "no_target" and set(d.rep_ids) == {"E1", "E2"} for d in result.diagnostics)


def test_charts_are_figures_of_the_result():
    result = run()
    fig = quota_vs_potential(result.quotas)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    plotted = sum(len(c.get_offsets()) for c in fig.axes[0].collections)
    assert plotted == (result.quotas["potential"] > 0).sum()
    assert isinstance(rollup_by_level(result.rollup), Figure)


def test_report_is_json_and_runs_are_deterministic():
    first, second = run(history=history({"E1": 500_000.0, "E2": 500_000.0})), run(history=history({"E1": 500_000.0, "E2": 500_000.0}))
    json.dumps(first.report)
    pd.testing.assert_frame_equal(first.quotas, second.quotas)
    pd.testing.assert_frame_equal(first.rollup, second.rollup)


def test_parameters_are_validated():
    with pytest.raises(ValidationError, match="1.0"):
        QuotaParams(ramp=[0.5, 0.9])
    with pytest.raises(ValidationError, match="12 values"):
        QuotaParams(seasonality={"weights": [1, 2, 3]})
    with pytest.raises(ValidationError, match="extra"):
        QuotaParams.model_validate({"metod": "blend"})
    with pytest.raises(ValidationError):
        QuotaParams(over_assignment={"rep": 0.9})
