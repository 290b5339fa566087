"""Fairness criteria on hand-made books whose answers are worked out by hand (in the comments)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from plan_lib.fairness.criteria import compare, evaluate
from plan_lib.fairness.errors import CriterionError
from plan_lib.fairness.measures import gini, lorenz_curve, weighted_cv
from plan_lib.fairness.metrics import account_metrics, rep_metrics
from plan_lib.fairness.params import Criterion, FairnessParams

# Segment A (West): three full-time reps; segment B (East): B1 half-time and ramping. X is leaving (no book).
BOOKS = pd.DataFrame(
    [
        # rep, segment, region, status, carries, fte, potential, accounts, customers, workload, intent, arr
        ("A1", "A", "West", "active", True, 1.0, 90.0, 9, 3, 9.0, 27.0, 10.0),
        ("A2", "A", "West", "active", True, 1.0, 100.0, 10, 4, 10.0, 30.0, 10.0),
        ("A3", "A", "West", "active", True, 1.0, 110.0, 11, 6, 14.0, 33.0, 10.0),
        ("B1", "B", "East", "open", True, 0.5, 52.0, 4, 2, 10.0, 10.0, 0.0),
        ("B2", "B", "East", "active", True, 1.0, 100.0, 10, 5, 10.0, 40.0, 0.0),
        ("B3", "B", "East", "active", True, 1.0, 100.0, 25, 5, 10.0, 40.0, 0.0),
        ("X", "B", "East", "leaving", False, 1.0, 900.0, 1, 0, 99.0, 900.0, 0.0),
    ],
    columns=["rep_id", "segment", "region", "status", "carries_book", "fte", "potential", "accounts", "customers",
             "workload", "intent_potential", "current_arr"],
)
QUOTAS = pd.DataFrame({
    "rep_id": ["A1", "A2", "A3", "B1", "B2", "B3"],
    "quota": [27.0, 30.0, 33.0, 13.0, 30.0, 30.0],
    "ramp_factor": [1.0, 1.0, 1.0, 0.5, 1.0, 1.0],
})
# account, owner, previous owner, potential, ARR, overridden, employees
ACCOUNTS = pd.DataFrame(
    [
        ("a1", "A1", "A1", 10.0, 100.0, False, 5),
        ("a2", "A1", "A2", 25.0, 0.0, False, 50),  # changed owner
        ("a3", "A2", "A2", 20.0, 50.0, False, 7),
        ("a4", "A2", "", 40.0, 0.0, False, 1),  # new account: no previous owner, not a disruption
        ("a5", "A3", "A1", 10.0, 300.0, False, 3),  # changed owner
        ("a6", "B1", "B1", 20.0, 0.0, False, 2),
        ("a7", "B2", "B2", 5.0, 0.0, True, 2),
        ("a8", "B3", "B2", 5.0, 50.0, True, 400),  # changed owner
        ("a9", "B3", "B3", 20.0, 0.0, False, 8),
    ],
    columns=["account_id", "rep_id", "previous_rep_id", "potential", "current_arr", "overridden", "employees"],
)


def _tables(books: pd.DataFrame = BOOKS, quotas: pd.DataFrame = QUOTAS, accounts: pd.DataFrame = ACCOUNTS):
    reps = rep_metrics(books, quotas)
    assignments = accounts[["account_id", "rep_id", "previous_rep_id", "overridden"]].assign(segment=accounts["rep_id"].str[0])
    facts = account_metrics(assignments, accounts[["account_id", "potential", "current_arr", "employees"]],
                            books.set_index("rep_id")["region"])
    return reps, facts


@pytest.fixture(scope="module")
def result():
    reps, facts = _tables()
    return evaluate(FairnessParams(), reps, facts)


def _row(result, name: str) -> pd.Series:
    return result.criteria.set_index("name").loc[name]


def _group(result, name: str, group: str) -> pd.Series:
    groups = result.groups[result.groups["criterion"] == name].set_index("group")
    return groups.loc[group]


def _reps(result, name: str, status: str) -> set[str]:
    rows = result.reps[(result.reps["criterion"] == name) & (result.reps["status"] == status)]
    return set(rows["rep_id"])


def test_potential_per_fte_deviation_uses_the_fte_weighted_segment_mean(result) -> None:
    row = _row(result, "potential_per_fte")
    # A: 90, 100, 110 per FTE around 100 -> 10% off: beyond the 5% fail line
    assert row["value"] == pytest.approx(0.10) and row["status"] == "fail" and row["worst_group"] == "A"
    # B: segment mean = 252 / 2.5 FTE = 100.8 (not the plain mean of 104, 100, 100); B1 is 104 per FTE
    assert _group(result, "potential_per_fte", "B")["value"] == pytest.approx(104 / (252 / 2.5) - 1)
    assert _group(result, "potential_per_fte", "B")["status"] == "pass"
    assert _reps(result, "potential_per_fte", "fail") == {"A1", "A3"}
    assert "X" not in set(result.reps["rep_id"])  # a rep without a book is not measured


def test_territory_quality_is_the_spread_of_potential_per_account(result) -> None:
    # A: 10 per account for everyone -> 0; B: 13, 10, 4 -> mean 9, std sqrt(14)
    assert _group(result, "territory_quality", "A")["value"] == pytest.approx(0.0)
    row = _row(result, "territory_quality")
    assert row["value"] == pytest.approx(np.sqrt(14) / 9) and row["status"] == "fail"
    # reps more than one standard deviation from the mean: 13 (+44%) and 4 (-56%), not 10 (+11%)
    assert _reps(result, "territory_quality", "fail") == {"B1", "B3"}


def test_intent_share_compares_intent_weighted_potential_per_fte(result) -> None:
    # B: 20, 40, 40 per FTE, mean 90 / 2.5 = 36 -> B1 is 44% short; A: 27, 30, 33 -> 10%, below the 15% warning
    assert _group(result, "intent_share", "A")["status"] == "pass"
    row = _row(result, "intent_share")
    assert row["value"] == pytest.approx(1 - 20 / 36) and row["status"] == "fail" and row["worst_group"] == "B"
    assert _reps(result, "intent_share", "fail") == {"B1"}


def test_customer_share_band_is_in_points_around_the_segment_share(result) -> None:
    # A: 13 customers / 30 accounts; A3 6/11 is 11.2 points above (warn), A1 3/9 exactly 10 points below (inside)
    assert _group(result, "customer_share", "A")["value"] == pytest.approx(6 / 11 - 13 / 30)
    assert _reps(result, "customer_share", "warn") >= {"A3"} and "A1" not in _reps(result, "customer_share", "warn")
    # B: 12 / 39; B1 and B2 at one half are 19.2 points above: warn, not fail (20)
    row = _row(result, "customer_share")
    assert row["value"] == pytest.approx(0.5 - 12 / 39) and row["status"] == "warn"


def test_workload_cv_is_fte_weighted(result) -> None:
    # A: 9, 10, 14 per FTE -> std sqrt(14/3) / mean 11; B: 20 (half weight), 10, 10 -> mean 12, std 4
    assert _group(result, "workload_cv", "A")["value"] == pytest.approx(np.sqrt(14 / 3) / 11)
    assert _group(result, "workload_cv", "A")["status"] == "warn"
    row = _row(result, "workload_cv")
    assert row["value"] == pytest.approx(4 / 12) and row["status"] == "fail"
    assert _reps(result, "workload_cv", "fail") == {"B1"}


def test_quota_to_potential_is_ramp_adjusted(result) -> None:
    # A: 0.3 for everyone. B1 is ramping (0.5): 13 over 52 x 0.5 = 0.5 against the segment's 73 / 226
    assert _group(result, "quota_to_potential", "A")["value"] == pytest.approx(0.0)
    row = _row(result, "quota_to_potential")
    assert row["value"] == pytest.approx(0.5 / (73 / 226) - 1) and row["status"] == "fail"
    assert _reps(result, "quota_to_potential", "fail") == {"B1"}


def test_gini_of_potential_per_fte(result) -> None:
    # A unweighted: sum |xi - xj| over ordered pairs = 80, / (2 n^2 mean) = 80 / (2 * 9 * 100)
    assert _group(result, "gini_potential_per_fte", "A")["value"] == pytest.approx(80 / 1800)
    row = _row(result, "gini_potential_per_fte")
    assert row["status"] == "warn" and row["worst_group"] == "A"


def test_disruption_counts_only_accounts_that_had_an_owner(result) -> None:
    # 8 accounts had an owner, 3 changed (a2, a5, a8); a4 is new
    assert _row(result, "disruption_accounts")["value"] == pytest.approx(3 / 8)
    assert _row(result, "disruption_accounts")["status"] == "fail"
    # potential: (25 + 10 + 5) / 115; ARR: (0 + 300 + 50) / 500
    assert _row(result, "disruption_potential")["value"] == pytest.approx(40 / 115)
    assert _row(result, "disruption_potential")["status"] == "warn"
    assert _row(result, "disruption_arr")["value"] == pytest.approx(350 / 500)
    # per rep: A1 half its book changed, A3 all of it, B3 half; A2 none (a4 was nobody's)
    assert _reps(result, "disruption_accounts", "fail") == {"A1", "A3", "B3"}


def test_exceptions_creep_warns_above_ten_percent(result) -> None:
    row = _row(result, "exceptions_creep")
    assert row["value"] == pytest.approx(2 / 9) and row["status"] == "warn"  # no fail threshold: never blocks a lock


def test_a_criterion_added_in_yaml_from_a_column_and_an_aggregate() -> None:
    text = """
    extra_criteria:
      - {name: workload_spread, column: workload, per_fte: true, aggregate: cv, scope: segment, warn: 0.2, fail: 0.3}
      - {name: big_accounts, column: employees, aggregate: max, scope: all, warn: 300, fail: 500}
      - {name: arr_kept, column: changed_owner, per: account, aggregate: share, scope: region, weight: current_arr, fail: 0.5}
    """
    params = FairnessParams.model_validate(yaml.safe_load(text))
    assert [c.name for c in params.active][-3:] == ["workload_spread", "big_accounts", "arr_kept"]
    assert params.active[-3].title == "cv of workload per FTE by segment"  # no label: built from the fields
    written = FairnessParams.model_validate({"criteria": [{"name": "workload_cv", "column": "workload_per_fte", "aggregate": "cv", "fail": 0.3}]})
    assert written.active[0].title == FairnessParams().active[4].title  # a default's name keeps its label
    reps, facts = _tables()
    result = evaluate(params, reps, facts)
    # unweighted this time: B's 20, 10, 10 -> mean 40/3
    b = np.array([20.0, 10.0, 10.0])
    assert _group(result, "workload_spread", "B")["value"] == pytest.approx(b.std() / b.mean())
    assert _row(result, "workload_spread")["status"] == "fail"
    # employees is an account column: summed over each book, B3 has 400 + 8
    assert _row(result, "big_accounts")["value"] == pytest.approx(408) and _reps(result, "big_accounts", "warn") == {"B3"}
    # by the owner's region: West ARR changed 300 of 450, East 50 of 50
    assert _group(result, "arr_kept", "West")["value"] == pytest.approx(300 / 450)
    assert _group(result, "arr_kept", "East")["value"] == pytest.approx(1.0)


def test_scope_all_compares_every_rep_with_the_company_mean() -> None:
    reps, facts = _tables()
    params = FairnessParams(criteria=[Criterion(name="ppf", column="potential_per_fte", aggregate="max_rel_dev", weight="fte",
                                                scope="all", fail=0.05)])
    result = evaluate(params, reps, facts)
    assert _row(result, "ppf")["value"] == pytest.approx(1 - 90 / (552 / 5.5))


def test_an_unknown_column_names_the_metrics_to_choose_from() -> None:
    reps, facts = _tables()
    params = FairnessParams(criteria=[Criterion(name="typo", column="potental", aggregate="cv", fail=0.1)])
    with pytest.raises(CriterionError, match="potental.*potential_per_fte"):
        evaluate(params, reps, facts)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"aggregate": "cv", "warn": 0.3, "fail": 0.2}, "must be <="),
        ({"aggregate": "min", "warn": 0.2, "fail": 0.3}, "must be >="),
        ({"aggregate": "share", "fail": 0.2}, "per: account"),
        ({"aggregate": "cv"}, "needs a warn or a fail"),
        ({"aggregate": "cv", "fail": 0.2, "per": "account"}, "per: rep"),
    ],
)
def test_inconsistent_criteria_are_refused(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Criterion(name="c", column="x", **fields)


def test_criterion_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="repeated: potential_per_fte"):
        FairnessParams(extra_criteria=[Criterion(name="potential_per_fte", column="x", aggregate="cv", fail=1)])


def test_min_criteria_fail_below_the_threshold() -> None:
    reps, facts = _tables()
    params = FairnessParams(criteria=[Criterion(name="floor", column="customer_share", aggregate="min", warn=0.3, fail=0.25)])
    result = evaluate(params, reps, facts)
    assert _row(result, "floor")["value"] == pytest.approx(5 / 25) and _row(result, "floor")["status"] == "fail"
    assert _reps(result, "floor", "fail") == {"B3"}


def test_comparison_says_whether_the_edits_made_it_fairer() -> None:
    reps, facts = _tables()
    params = FairnessParams()
    draft = evaluate(params, reps, facts)
    fixed = BOOKS.copy()
    fixed.loc[fixed["rep_id"] == "A1", "potential"] = 98.0  # A: 98, 100, 110 -> still off, but less
    fixed.loc[fixed["rep_id"] == "A3", "potential"] = 102.0
    refined = evaluate(params, *_tables(books=fixed))
    table = compare(draft, refined, params).set_index("name")
    assert table.at["potential_per_fte", "verdict"] == "fairer"
    assert table.at["potential_per_fte", "refined_status"] == "pass"
    assert table.at["disruption_accounts", "verdict"] == "unchanged"


def test_lorenz_and_gini_helpers() -> None:
    x, y = lorenz_curve(np.array([3.0, 1.0]))
    assert x.tolist() == [0.0, 0.5, 1.0] and y.tolist() == pytest.approx([0.0, 0.25, 1.0])
    assert gini(np.array([5.0, 5.0, 5.0])) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 1.0])) == pytest.approx(2 / 3)
    # a weight of 2 is the same as the value appearing twice
    assert gini(np.array([1.0, 4.0]), np.array([2.0, 1.0])) == pytest.approx(gini(np.array([1.0, 1.0, 4.0])))
    assert weighted_cv(np.array([1.0, 3.0])) == pytest.approx(0.5)
