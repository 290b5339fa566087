"""Account potential scoring on small synthetic tables: parameters, segments, features
without leakage, the model and its fallback, contributions, comparisons, backtest, charts."""

from __future__ import annotations

import datetime as dt
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_lib.errors import ParameterError
from plan_lib.scoring import (
    ScoringParams,
    as_of_view,
    charts,
    check_against_data,
    compare_scores,
    parse_scoring_params,
    rescore,
    score_accounts,
)
from plan_lib.scoring.backtest import backtest_windows, bookings_between, decile_table
from plan_lib.scoring.features import (
    FeatureBuilder,
    day_number,
    opportunity_features,
    training_opportunities,
)
from plan_lib.scoring.params import BacktestParams, SizeCurve
from plan_lib.scoring.potential import CONTRIBUTION_COLUMNS, curve_values, shapley_product
from plan_lib.scoring.propensity import auc, calibration_table
from plan_lib.scoring.segments import assign_segments, family_roots

AS_OF = dt.date(2026, 12, 31)
INDUSTRIES = ("Software", "Retail", "Healthcare")
TOPICS = ("crm", "analytics", "security")


def _dates(days: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(days, dtype="datetime64[D]").astype("datetime64[s]"))


def make_tables(
    n: int = 400, n_opportunities: int = 4000, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """Contract-typed tables whose outcomes follow a known logistic law; events run past AS_OF
    (the extract holds the plan quarter, as real extracts do)."""
    rng = np.random.default_rng(seed)
    ids = [f"A{i:05d}" for i in range(n)]
    industry = rng.choice(INDUSTRIES, n)
    employees = np.clip(np.round(np.exp(rng.normal(4.0, 1.5, n))), 1, None).astype(np.int64)
    is_customer = rng.random(n) < 0.25
    parent = np.full(n, None, dtype=object)
    parent[1], parent[2] = ids[0], ids[1]  # a chain: A00002 -> A00001 -> A00000
    accounts = pd.DataFrame(
        {
            "account_id": pd.Series(ids, dtype="str"),
            "name": pd.Series([f"Company {i}" for i in range(n)], dtype="str"),
            "parent_account_id": pd.Series(parent, dtype="str"),
            "country": pd.Series(["US"] * n, dtype="str"),
            "state": pd.Series(["CA"] * n, dtype="str"),
            "county_fips": pd.Series(["06075"] * n, dtype="str"),
            "postal_code": pd.Series(["94105"] * n, dtype="str"),
            "lat": rng.uniform(33, 45, n),
            "lon": rng.uniform(-122, -75, n),
            "industry": pd.Series(industry, dtype="str"),
            "employees": pd.array(employees, dtype="Int64"),
            "annual_revenue": employees * 200_000.0,
            "is_customer": pd.array(is_customer, dtype="boolean"),
            "current_arr": np.where(is_customer, np.round(8000 * np.sqrt(employees), -2), np.nan),
            "current_owner": pd.Series([None] * n, dtype="str"),
            "segment": pd.Series([None] * n, dtype="str"),
        }
    )
    first, last = day_number(dt.date(2024, 10, 1)), day_number(dt.date(2027, 3, 31))

    def events(rate: float) -> tuple[np.ndarray, np.ndarray]:
        count = rng.poisson(rate, n)
        return np.repeat(np.arange(n), count), rng.integers(first, last + 1, count.sum())

    who, day = events(12)
    intent = pd.DataFrame(
        {
            "account_id": pd.Series(np.array(ids)[who], dtype="str"),
            "date": _dates(day),
            "topic": pd.Series(rng.choice(TOPICS, len(who)), dtype="str"),
            "strength": np.round(rng.uniform(10, 100, len(who)), 1),
        }
    )
    who, day = events(15)
    activities = pd.DataFrame(
        {
            "account_id": pd.Series(np.array(ids)[who], dtype="str"),
            "date": _dates(day),
            "type": pd.Series(rng.choice(["email", "call", "meeting"], len(who)), dtype="str"),
        }
    )
    account = rng.integers(0, n, n_opportunities)
    created = rng.integers(
        day_number(dt.date(2025, 1, 1)), day_number(dt.date(2027, 3, 15)), n_opportunities
    )
    close = created + rng.integers(20, 120, n_opportunities)
    effect = pd.Series({"Software": 0.6, "Retail": -0.4, "Healthcare": 0.0})
    logit = (
        -2.5
        + 0.35 * np.log1p(employees[account])
        + 1.0 * is_customer[account]
        + effect.reindex(industry[account]).to_numpy()
    )
    won = rng.random(n_opportunities) < 1 / (1 + np.exp(-logit))
    still_open = close > last
    stage = np.where(still_open, "open", np.where(won, "won", "lost"))
    opportunities = pd.DataFrame(
        {
            "opportunity_id": pd.Series([f"O{i:06d}" for i in range(n_opportunities)], dtype="str"),
            "account_id": pd.Series(np.array(ids)[account], dtype="str"),
            "owner_rep_id": pd.Series(["R1"] * n_opportunities, dtype="str"),
            "created_date": _dates(created),
            "close_date": _dates(close).where(~still_open),
            "stage": pd.Series(stage, dtype="str"),
            "amount": np.round(3000 * np.sqrt(employees[account]), -2),
        }
    )
    reps = pd.DataFrame(
        {"rep_id": pd.Series(["R1"], dtype="str"), "segment": pd.Series(["SMB"], dtype="str")}
    )
    targets = pd.DataFrame({"period": pd.Series(["2027Q1"], dtype="str"), "bookings_target": [1e6]})
    return {
        "accounts": accounts,
        "opportunities": opportunities,
        "intent_signals": intent,
        "activities": activities,
        "reps": reps,
        "targets": targets,
    }


@pytest.fixture(scope="module")
def synthetic() -> dict[str, pd.DataFrame]:
    return make_tables()


@pytest.fixture(scope="module")
def result(synthetic: dict[str, pd.DataFrame]):
    return score_accounts(synthetic, ScoringParams(), AS_OF)


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"industry_weights": {"Retail": -1}}, "scoring.industry_weights.Retail"),
        ({"base_value": {"SMB": -5}}, "scoring.base_value.SMB"),
        ({"segment_rules": [{"segment": "Big", "min_employees": 10}]}, "scoring.segment_rules"),
        (
            {"size_curves": {"employees": {"points": [[10, 1], [5, 2]]}}},
            "scoring.size_curves.employees.points",
        ),
        ({"intent": {"half_life_days": 0}}, "scoring.intent.half_life_days"),
        ({"intent": {"topic_weights": {"crm": -0.5}}}, "scoring.intent.topic_weights.crm"),
        ({"propensity": {"holdout_from": "31/12/2026"}}, "scoring.propensity.holdout_from"),
        ({"propensity": {"minevents": 3}}, "scoring.propensity.minevents"),
    ],
)
def test_bad_parameters_name_the_key(raw: dict, key: str) -> None:
    with pytest.raises(ParameterError) as caught:
        parse_scoring_params(raw, "plan.yaml")
    assert caught.value.key == key
    assert f"parameter '{key}'" in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "key", "words"),
    [
        (
            {"industry_weights": {"Aerospace": 1.2}},
            "scoring.industry_weights.Aerospace",
            "no account has industry",
        ),
        (
            {"industry_weights": {"Sofware": 1.2}},
            "scoring.industry_weights.Sofware",
            "did you mean 'Software'",
        ),
        (
            {"size_curves": {"headcount": {"points": [[1, 1], [10, 2]]}}},
            "scoring.size_curves.headcount",
            "no such column",
        ),
        (
            {"size_curves": {"state": {"points": [[1, 1], [10, 2]]}}},
            "scoring.size_curves.state",
            "not a number column",
        ),
        (
            {"intent": {"topic_weights": {"payroll": 2}}},
            "scoring.intent.topic_weights.payroll",
            "no intent signal has topic",
        ),
        (
            {"activities": {"type_weights": {"demo": 2}}},
            "scoring.activities.type_weights.demo",
            "no activity has type",
        ),
        ({"base_value": {"SMB": 1, "Mid-Market": 1}}, "scoring.base_value", "'Enterprise'"),
        (
            {
                "segment_rules": [
                    {"segment": "Big", "min_employees": 500, "industries": ["Aero"]},
                    {"segment": "SMB"},
                ]
            },
            "scoring.segment_rules.0.industries",
            "no account has industry 'Aero'",
        ),
        (
            {"propensity": {"terms": ["np.log1p(employees)", "headcount"]}},
            "scoring.propensity.terms.1",
            "cannot evaluate 'headcount'",
        ),
        (
            {"propensity": {"prior": {"Intercept": -2, "np.log(employees)": 0.3}}},
            "scoring.propensity.prior.np.log(employees)",
            "did you mean 'np.log1p(employees)'",
        ),
        (
            {"propensity": {"holdout_from": "2027-02-01"}},
            "scoring.propensity.holdout_from",
            "after the snapshot",
        ),
    ],
)
def test_parameters_that_do_not_fit_the_data_name_the_key(
    synthetic, raw: dict, key: str, words: str
) -> None:
    params = parse_scoring_params(raw)
    with pytest.raises(ParameterError) as caught:
        check_against_data(params, synthetic, AS_OF, source="plan.yaml")
    assert caught.value.key == key
    assert words in str(caught.value)


def test_score_accounts_stops_on_a_bad_parameter(synthetic) -> None:
    with pytest.raises(ParameterError, match="scoring.industry_weights.Aerospace"):
        score_accounts(
            synthetic, parse_scoring_params({"industry_weights": {"Aerospace": 1.0}}), AS_OF
        )


def test_default_parameters_fit_the_synthetic_data(synthetic) -> None:
    check_against_data(ScoringParams(), synthetic, AS_OF)


# ---------------------------------------------------------------- segments and families


def test_first_matching_rule_wins_and_families_take_the_root_segment() -> None:
    accounts = pd.DataFrame(
        {
            "account_id": pd.Series(["P", "C", "G", "S", "X", "N"], dtype="str"),
            "parent_account_id": pd.Series([None, "P", "C", None, None, None], dtype="str"),
            "industry": pd.Series(
                ["Retail", "Retail", "Software", "Software", "Public", None], dtype="str"
            ),
            "employees": pd.array([5000, 10, 3, 150, 150, None], dtype="Int64"),
            "annual_revenue": [1e6, 1e6, 1e5, 1e6, 5e7, np.nan],
            "segment": pd.Series([None, None, None, None, None, "Strategic"], dtype="str"),
        }
    )
    params = parse_scoring_params(
        {
            "segment_rules": [
                {"segment": "Enterprise", "min_employees": 1000},
                {
                    "segment": "Mid-Market",
                    "min_employees": 100,
                    "min_annual_revenue": 2e7,
                    "industries": ["Software", "Public"],
                },
                {"segment": "SMB"},
            ]
        }
    )
    out = assign_segments(accounts, params).set_index("account_id")
    assert out.loc["P", "segment"] == "Enterprise"
    assert (
        out.loc["C", "segment"] == out.loc["G", "segment"] == "Enterprise"
    )  # grandchild follows the root
    assert list(out.loc[["P", "C", "G"], "family_id"]) == ["P", "P", "P"]
    assert out.loc["G", "segment_source"] == "family"
    assert out.loc["S", "segment"] == "Mid-Market"  # employees over threshold, industry allowed
    assert out.loc["X", "segment"] == "Mid-Market"  # revenue alone suffices (any threshold)
    assert out.loc["N", "segment"] == "Strategic" and out.loc["N", "segment_source"] == "data"
    ruled = assign_segments(
        accounts, params.model_copy(update={"use_data_segments": False})
    ).set_index("account_id")
    assert ruled.loc["N", "segment"] == "SMB"  # no size known: the catch-all


def test_family_roots_follow_long_chains() -> None:
    n = 300
    ids = pd.Series([f"A{i}" for i in range(n)], dtype="str")
    parents = pd.Series([None] + [f"A{i - 1}" for i in range(1, n)], dtype="str")
    assert (family_roots(ids, parents) == "A0").all()


# ---------------------------------------------------------------- features


def test_features_as_of_a_day_ignore_everything_after_it(synthetic) -> None:
    params = ScoringParams()
    day = dt.date(2026, 6, 30)
    codes = np.arange(50)
    before = FeatureBuilder(synthetic, params).at(codes, day_number(day))
    later = dict(synthetic)
    extra = pd.DataFrame(
        {
            "account_id": pd.Series(
                synthetic["accounts"]["account_id"].iloc[:50].to_numpy(), dtype="str"
            ),
            "date": pd.Series(pd.Timestamp(day) + pd.Timedelta(days=1), index=range(50)).astype(
                "datetime64[s]"
            ),
            "topic": pd.Series(["crm"] * 50, dtype="str"),
            "strength": 100.0,
        }
    )
    later["intent_signals"] = pd.concat([synthetic["intent_signals"], extra], ignore_index=True)
    later["activities"] = pd.concat(
        [
            synthetic["activities"],
            extra[["account_id", "date"]].assign(type=pd.Series(["call"] * 50, dtype="str")),
        ],
        ignore_index=True,
    )
    after = FeatureBuilder(later, params).at(codes, day_number(day))
    pd.testing.assert_frame_equal(before, after)
    # the same signals dated on the day itself do count (the test can fail)
    extra["date"] = extra["date"] - pd.Timedelta(days=1)
    later["intent_signals"] = pd.concat([synthetic["intent_signals"], extra], ignore_index=True)
    on_day = FeatureBuilder(later, params).at(codes, day_number(day))
    np.testing.assert_allclose(on_day["intent_score"] - before["intent_score"], 1.0)


def test_intent_decays_by_half_life_inside_the_window() -> None:
    tables = make_tables(n=3, n_opportunities=0)
    signal_day = pd.Timestamp("2026-01-01")
    tables["intent_signals"] = pd.DataFrame(
        {
            "account_id": pd.Series(["A00000"], dtype="str"),
            "date": pd.Series([signal_day]).astype("datetime64[s]"),
            "topic": pd.Series(["crm"], dtype="str"),
            "strength": [80.0],
        }
    )
    params = parse_scoring_params(
        {"intent": {"window_days": 90, "half_life_days": 30, "topic_weights": {"crm": 2.0}}}
    )
    builder = FeatureBuilder(tables, params)
    start = day_number(signal_day)
    days = np.array([start - 1, start, start + 30, start + 89, start + 90])
    scores = builder.at(np.zeros(5, dtype=int), days)["intent_score"].to_numpy()
    np.testing.assert_allclose(scores, [0.0, 1.6, 0.8, 1.6 * 0.5 ** (89 / 30), 0.0])


def test_training_uses_only_outcomes_known_at_the_snapshot(synthetic) -> None:
    known = training_opportunities(synthetic["opportunities"], AS_OF)
    assert (known["close_date"] <= pd.Timestamp(AS_OF)).all()
    assert set(known["stage"]) == {"won", "lost"}
    opps = synthetic["opportunities"]
    closed_later = opps[
        (opps["close_date"] > pd.Timestamp(AS_OF)) & (opps["created_date"] <= pd.Timestamp(AS_OF))
    ]
    assert (
        len(closed_later) > 0
        and not known["opportunity_id"].isin(closed_later["opportunity_id"]).any()
    )
    view = as_of_view(synthetic, AS_OF)
    shown = view["opportunities"].set_index("opportunity_id").loc[closed_later["opportunity_id"]]
    assert (shown["stage"] == "open").all() and shown["close_date"].isna().all()
    assert view["intent_signals"]["date"].max() <= pd.Timestamp(AS_OF)


def test_opportunity_features_are_taken_the_day_before_creation(synthetic) -> None:
    params = ScoringParams()
    builder = FeatureBuilder(synthetic, params)
    known = training_opportunities(synthetic["opportunities"], AS_OF).head(40)
    features = opportunity_features(builder, known)
    codes = builder.codes(known["account_id"])
    expected = builder.at(
        codes, (known["created_date"].to_numpy(dtype="datetime64[D]").astype(np.int64) - 1)
    )
    np.testing.assert_allclose(features["intent_score"], expected["intent_score"])
    np.testing.assert_allclose(features["activity_count"], expected["activity_count"])


# ---------------------------------------------------------------- model


def test_model_recovers_the_known_effects(result) -> None:
    report = result.model_report
    assert not report["fallback"]
    assert report["n_train"] + report["n_holdout"] == report["n_opportunities"]
    coef = result.coefficients.set_index("term")
    assert coef.loc["is_customer", "ci_low"] < 1.0 < coef.loc["is_customer", "ci_high"]
    assert (
        coef.loc["np.log1p(employees)", "ci_low"]
        < 0.35
        < coef.loc["np.log1p(employees)", "ci_high"]
    )
    assert report["auc_holdout"] > 0.6
    assert report["holdout_from"] <= AS_OF.isoformat()
    assert len(result.calibration) == 10 and result.calibration["n"].sum() == report["n_holdout"]
    json.dumps(report)  # saved with the run


def test_thin_history_falls_back_to_the_documented_prior(synthetic) -> None:
    params = parse_scoring_params({"propensity": {"min_events": 10_000}})
    out = score_accounts(synthetic, params, AS_OF)
    report = out.model_report
    assert report["fallback"] is True and report["final_fit"] == "prior"
    assert "min_events = 10000" in report["fallback_reason"]
    # the prior's own formula, by hand
    features = FeatureBuilder(as_of_view(synthetic, AS_OF), params).accounts_at(AS_OF)
    prior = params.propensity.prior
    eta = (
        prior["Intercept"]
        + prior["np.log1p(employees)"] * np.log1p(features["employees"])
        + prior["np.log1p(intent_score)"] * np.log1p(features["intent_score"])
        + prior["is_customer"] * features["is_customer"]
        + prior["np.log1p(activity_count)"] * np.log1p(features["activity_count"])
    )
    np.testing.assert_allclose(out.scores["propensity"], 1 / (1 + np.exp(-eta)), rtol=1e-9)
    assert out.coefficients["ci_low"].isna().all()


def test_auc_and_calibration_on_known_cases() -> None:
    assert auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert auc(np.array([1, 1, 0, 0]), np.array([0.1, 0.2, 0.3, 0.4])) == 0.0
    assert auc(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5
    assert auc(np.array([1, 1]), np.array([0.5, 0.6])) is None
    table = calibration_table(np.r_[np.zeros(50), np.ones(50)], np.linspace(0, 1, 100))
    assert table["observed_rate"].iloc[0] == 0.0 and table["observed_rate"].iloc[-1] == 1.0


# ---------------------------------------------------------------- potential and contributions


def test_contributions_sum_to_potential(result) -> None:
    scores = result.scores
    total = scores[list(CONTRIBUTION_COLUMNS)].sum(axis=1)
    np.testing.assert_allclose(total, scores["potential"], rtol=1e-9, atol=1e-6)
    assert (scores["potential"] >= 0).all()
    assert scores["account_id"].tolist() == make_tables()["accounts"]["account_id"].tolist()
    assert (scores.loc[~scores["is_customer"], "contrib_expansion"] == 0).all()


@settings(max_examples=60, deadline=None)
@given(
    base=st.floats(0, 1e6),
    fit=st.floats(0, 50),
    uplift=st.floats(1, 2),
    p=st.floats(0, 1),
    p_ref=st.floats(1e-3, 1),
)
def test_shapley_contributions_add_up_exactly(base, fit, uplift, p, p_ref) -> None:
    factors = {
        "fit": (np.array([fit]), 1.0),
        "intent": (np.array([uplift]), 1.0),
        "propensity": (np.array([p]), p_ref),
    }
    parts = shapley_product(np.array([base]), factors)
    change = base * fit * uplift * p - base * p_ref
    assert sum(v[0] for v in parts.values()) == pytest.approx(change, rel=1e-9, abs=1e-6)
    if uplift == 1.0:
        assert parts["intent"][0] == 0.0  # a factor at its reference contributes nothing


def test_size_curves_interpolate_on_log_scale_and_stay_flat_beyond() -> None:
    curve = SizeCurve(points=[(10, 1.0), (1000, 3.0)])
    values = curve_values(pd.Series([1, 10, 100, 1000, 1e6, None], dtype="Float64"), curve)
    np.testing.assert_allclose(values, [1.0, 1.0, 2.0, 3.0, 3.0, 1.0])


def test_industry_weight_zero_removes_the_multiplicative_part(synthetic) -> None:
    params = parse_scoring_params(
        {"industry_weights": {"Retail": 0}, "backtest": {"enabled": False}}
    )
    out = score_accounts(synthetic, params, AS_OF).scores
    retail = synthetic["accounts"]["industry"].eq("Retail").to_numpy()
    np.testing.assert_allclose(
        out.loc[retail, "potential"], out.loc[retail, "contrib_expansion"], atol=1e-9
    )
    np.testing.assert_allclose(
        out[list(CONTRIBUTION_COLUMNS)].sum(axis=1), out["potential"], rtol=1e-9, atol=1e-6
    )


def test_scoring_is_deterministic(synthetic, result) -> None:
    again = score_accounts(synthetic, ScoringParams(), AS_OF)
    pd.testing.assert_frame_equal(result.scores, again.scores)
    first = {k: v for k, v in result.model_report.items() if k != "timings"}
    second = {k: v for k, v in again.model_report.items() if k != "timings"}
    assert first == second


def test_rescore_with_the_fitted_model_matches_the_run(synthetic, result) -> None:
    pd.testing.assert_frame_equal(
        rescore(synthetic, ScoringParams(), AS_OF, result.model), result.scores
    )


def test_in_period_data_does_not_change_the_scores(synthetic, result) -> None:
    """Dropping everything dated after the snapshot gives the same scores: it was never used."""
    cut = as_of_view(synthetic, AS_OF)
    opps = synthetic["opportunities"]
    cut["opportunities"] = opps[
        (opps["close_date"] <= pd.Timestamp(AS_OF)).fillna(False)
    ].reset_index(drop=True)
    again = score_accounts(cut, ScoringParams(), AS_OF)
    pd.testing.assert_frame_equal(result.scores, again.scores)


# ---------------------------------------------------------------- explanations


def test_compare_scores_finds_a_planted_riser_and_its_component(synthetic, result) -> None:
    tables = dict(synthetic)
    accounts = synthetic["accounts"].copy()
    customer = accounts.index[accounts["is_customer"].to_numpy(dtype=bool)][5]
    accounts.loc[customer, "current_arr"] = 5_000_000.0
    tables["accounts"] = accounts
    current = rescore(tables, ScoringParams(), AS_OF, result.model)
    comparison = compare_scores(result.scores, current, top=5)
    assert comparison.risers.iloc[0]["account_id"] == accounts.loc[customer, "account_id"]
    assert comparison.risers.iloc[0]["driver"] == "expansion"
    assert comparison.n_common == len(current) and comparison.n_added == comparison.n_removed == 0
    assert 0.99 < comparison.spearman <= 1.0


def test_compare_scores_names_the_component_that_moved_each_account() -> None:
    previous = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d"],
            "potential": [100.0, 100.0, 100.0, 100.0],
            "contrib_base": [50.0] * 4,
            "contrib_fit": [20.0] * 4,
            "contrib_intent": [10.0] * 4,
            "contrib_propensity": [20.0] * 4,
        }
    )
    current = previous.copy()
    current.loc[0, ["contrib_intent", "potential"]] = [70.0, 160.0]  # a rises by intent
    current.loc[1, ["contrib_fit", "contrib_intent", "potential"]] = [
        -10.0,
        15.0,
        75.0,
    ]  # b falls by fit
    current = pd.concat(
        [current.iloc[:3], pd.DataFrame({"account_id": ["e"], "potential": [1.0]})],
        ignore_index=True,
    )
    comparison = compare_scores(previous, current, top=3)
    assert (
        list(comparison.risers["account_id"]) == ["a"]
        and comparison.risers.iloc[0]["driver"] == "intent"
    )
    assert (
        list(comparison.fallers["account_id"]) == ["b"]
        and comparison.fallers.iloc[0]["driver"] == "fit"
    )
    assert comparison.fallers.iloc[0]["driver_change"] == -30.0
    assert (comparison.n_common, comparison.n_added, comparison.n_removed) == (3, 1, 1)


# ---------------------------------------------------------------- backtest


def test_backtest_windows_end_by_the_snapshot() -> None:
    windows = backtest_windows(AS_OF, BacktestParams(periods=2, period_months=3))
    assert windows == [
        (dt.date(2026, 9, 30), dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        (dt.date(2026, 6, 30), dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
    ]


def test_decile_table_of_a_perfect_score() -> None:
    potential = np.arange(100, dtype=float)
    bookings = np.where(potential >= 90, 10.0, 0.0)
    table = decile_table(potential, bookings)
    assert table["decile"].tolist() == list(range(10, 0, -1))
    assert table["bookings_share"].iloc[0] == 1.0 and table["lift"].iloc[0] == 10.0
    assert table["accounts"].sum() == 100 and table["bookings"].sum() == bookings.sum()


def test_backtest_compares_with_the_following_period(synthetic, result) -> None:
    backtest = result.backtest
    period = backtest.periods.iloc[0]
    assert period["as_of"] == dt.date(2026, 9, 30) and period["end"] == AS_OF
    booked = bookings_between(synthetic["opportunities"], period["start"], period["end"])
    assert period["bookings"] == pytest.approx(booked.sum())
    assert backtest.deciles["bookings"].sum() == pytest.approx(booked.sum())
    assert backtest.spearman is not None and -1 <= backtest.spearman <= 1


# ---------------------------------------------------------------- charts


def test_charts_draw_and_save(tmp_path: Path, synthetic, result) -> None:
    comparison = compare_scores(
        result.scores, result.scores.assign(potential=result.scores["potential"] * 1.01)
    )
    figures = {
        "coefficients": charts.plot_coefficients(
            result.coefficients, tmp_path / "coefficients.png"
        ),
        "calibration": charts.plot_calibration(result.calibration, tmp_path / "calibration.png"),
        "lift": charts.plot_lift(result.backtest.deciles, tmp_path / "lift.png"),
        "waterfall": charts.plot_contributions(result.scores, "A00003", tmp_path / "waterfall.png"),
        "movers": charts.plot_risers_fallers(comparison, tmp_path / "movers.png"),
    }
    for name, figure in figures.items():
        assert figure.axes, name
        assert (tmp_path / f"{name}.png").stat().st_size > 5_000
    with pytest.raises(KeyError, match="not in the scores"):
        charts.plot_contributions(result.scores, "nobody")


def test_without_activities_the_constant_term_is_left_out_and_reported(synthetic) -> None:
    tables = {k: v for k, v in synthetic.items() if k != "activities"}
    out = score_accounts(tables, ScoringParams(), AS_OF)
    report = out.model_report
    assert not report["fallback"]
    assert report["dropped_terms"] == ["np.log1p(activity_count)"]
    assert "np.log1p(activity_count)" not in report["formula"]
    assert "np.log1p(activity_count)" not in set(out.coefficients["term"])
    assert (out.scores["activity_count"] == 0).all()


def test_a_pickled_model_rescores_identically(synthetic, result) -> None:
    """The analyst's loop may load a saved model instead of refitting."""
    loaded = pickle.loads(pickle.dumps(result.model))
    assert loaded.result is None and not loaded.fallback
    again = rescore(synthetic, ScoringParams(), AS_OF, loaded)
    np.testing.assert_allclose(again["propensity"], result.scores["propensity"], rtol=1e-12)
    np.testing.assert_allclose(again["potential"], result.scores["potential"], rtol=1e-12)


def test_no_history_at_all_still_scores_with_the_prior(synthetic) -> None:
    tables = dict(synthetic)
    tables["opportunities"] = synthetic["opportunities"].iloc[:0]
    tables["intent_signals"] = synthetic["intent_signals"].iloc[:0]
    out = score_accounts(tables, ScoringParams(), AS_OF)
    assert out.model_report["fallback"] and out.model_report["n_opportunities"] == 0
    assert out.model_report["auc_holdout"] is None
    assert len(out.scores) == len(synthetic["accounts"]) and out.scores["potential"].notna().all()
    assert out.backtest.spearman is None  # nothing was booked
    json.dumps(out.model_report)
