"""CRM exports reconcile with the plan; the change list against a previous publication; publishing in the store."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import test_review_fixtures as fx
from test_fairness_lock import lock_run
from test_review_fixtures import session_for

from plan_lib.fairness.errors import PublishError
from plan_lib.fairness.exports import CRM_BASELINE, build_exports, change_list
from plan_lib.fairness.lock import Waiver, lock_version, new_version_after_lock, store_fingerprint
from plan_lib.fairness.publish import locked_versions, publish_plan, read_exports
from plan_lib.review.lock_models import Publication
from plan_lib.review.models import PlanVersion
from plan_lib.rundir import RunFolder

store_url, review, pg_url, run_dir = fx.store_url, fx.review, fx.pg_url, fx.run_dir  # fixtures of test_review_fixtures, used by name

START, END = dt.date(2027, 1, 1), dt.date(2027, 3, 31)


def plan_tables() -> dict[str, pd.DataFrame]:
    """Six accounts, two reps carrying a book (R3 is leaving, empty book), one manager."""
    reps = pd.DataFrame({
        "rep_id": ["M1", "R1", "R2", "R3"], "name": ["Mia", "Rae", "Rex", "Roy"],
        "email": ["m1@x.com", "r1@x.com", "r2@x.com", "r3@x.com"], "role": ["manager", "rep", "rep", "rep"],
        "manager_id": [None, "M1", "M1", "M1"], "segment": ["SMB"] * 4, "region": ["West"] * 4,
        "status": ["active", "active", "active", "leaving"],
    })
    assignments = pd.DataFrame({
        "account_id": ["a1", "a2", "a3", "a4", "a5", "a6"], "rep_id": ["R1", "R2", "R2", "R1", "R1", "R2"],
        "previous_rep_id": ["R1", "R1", "R2", "R3", "", "R2"], "segment": ["SMB"] * 6,
        "reason": ["kept", "balance", "kept", "rep departure", "new account", "kept"], "reason_detail": [""] * 6,
    })
    accounts = pd.DataFrame({"account_id": [f"a{i}" for i in range(1, 7)], "name": [f"Acme {i}" for i in range(1, 7)],
                             "parent_account_id": [None, None, None, None, "a1", None]})
    books = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "accounts": [3, 3, 0], "carries_book": [True, True, False]})
    quotas = pd.DataFrame({"rep_id": ["R1", "R2"], "manager_id": ["M1", "M1"], "segment": ["SMB", "SMB"], "region": ["West", "West"],
                           "quota": [100.0, 200.0], "ramp_factor": [1.0, 1.0]})
    schedule = pd.DataFrame({"rep_id": ["R1"] * 3 + ["R2"] * 3, "subperiod": ["m1", "m2", "m3"] * 2,
                             "calendar": ["2027-01", "2027-02", "2027-03"] * 2, "quota": [30.0, 30.0, 40.0, 70.0, 60.0, 70.0]})
    rollup = pd.DataFrame({"node_id": ["(company)", "M1", "R1", "R2"], "quota": [300.0, 300.0, 100.0, 200.0]})
    return {"reps": reps, "assignments": assignments, "accounts": accounts, "books": books, "quotas": quotas,
            "quota_schedule": schedule, "rollup": rollup}


def test_exports_reconcile_with_the_books_and_quotas() -> None:
    plan = plan_tables()
    exports = build_exports(plan, "2027Q1", START, END)
    owners = exports.account_owners
    assert sorted(owners["account_id"]) == sorted(plan["assignments"]["account_id"]) and owners["account_id"].is_unique
    assert owners.set_index("account_id").at["a2", "owner_email"] == "r2@x.com"
    assert owners.groupby("owner_rep_id").size().to_dict() == {"R1": 3, "R2": 3}
    assert exports.quotas["quota"].sum() == pytest.approx(plan["quotas"]["quota"].sum())
    assert exports.quota_schedule.groupby("rep_id")["quota"].sum().to_dict() == {"R1": 100.0, "R2": 200.0}
    feb = exports.quota_schedule.query("rep_id == 'R1' and subperiod == 'm2'").iloc[0]
    assert (feb["start_date"], feb["end_date"]) == ("2027-02-01", "2027-02-28")
    hierarchy = exports.hierarchy.set_index("person_id")
    assert hierarchy.at["R1", "manager_email"] == "m1@x.com" and hierarchy.at["M1", "quota"] == 300.0
    assert exports.checks["accounts"] == 6 and exports.checks["quota_total"] == 300.0


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda p: p["books"].loc.__setitem__((0, "accounts"), 2), "account counts"),
        (lambda p: p["quota_schedule"].loc.__setitem__((0, "quota"), 31.0), "seasonal split"),
        (lambda p: p.__setitem__("assignments", pd.concat([p["assignments"], p["assignments"].iloc[[0]]])), "more than once"),
        (lambda p: p["assignments"].loc.__setitem__((1, "rep_id"), "R9"), "not on the roster"),
    ],
)
def test_exports_that_do_not_reconcile_are_refused(break_it, message: str) -> None:
    plan = plan_tables()
    break_it(plan)
    with pytest.raises(PublishError, match=message):
        build_exports(plan, "2027Q1", START, END)


def test_change_list_against_a_previous_publication() -> None:
    plan = plan_tables()
    exports = build_exports(plan, "2027Q1", START, END)
    previous = {
        "account_owners": pd.DataFrame({"account_id": ["a1", "a2", "a3", "a4", "a6", "a7"], "owner_rep_id": ["R1", "R1", "R2", "R1", "R2", "R2"]}),
        "quotas": pd.DataFrame({"rep_id": ["R1", "R2", "R4", "R1"], "period": ["2027Q1", "2027Q1", "2027Q1", "2026Q4"],
                                "quota": [90.0, 200.0, 50.0, 80.0]}),
    }
    accounts, quotas, baseline = change_list(exports.account_owners, exports.quotas, plan["assignments"], plan["reps"], previous)
    assert baseline == "the previous publication"
    changes = accounts.set_index("account_id")
    assert changes["change"].to_dict() == {"a2": "moved", "a5": "assigned", "a7": "removed"}
    assert (changes.at["a2", "old_owner_rep_id"], changes.at["a2", "new_owner_rep_id"]) == ("R1", "R2")
    assert (changes.at["a2", "old_owner_name"], changes.at["a2", "new_owner_email"]) == ("Rae", "r2@x.com")
    rows = quotas.set_index("rep_id")
    assert set(rows.index) == {"R1", "R4"}  # R2 unchanged; last quarter's R1 quota is history, not a change
    assert (rows.at["R1", "old_quota"], rows.at["R1", "new_quota"], rows.at["R1", "kind"]) == (90.0, 100.0, "changed")
    assert rows.at["R1", "change_pct"] == pytest.approx(10 / 90)
    assert rows.at["R4", "kind"] == "removed"


def test_first_publication_compares_with_the_crm_owners() -> None:
    exports = build_exports(plan_tables(), "2027Q1", START, END)
    changes = exports.account_changes.set_index("account_id")
    # a2 left R1, a4 left the leaving R3, a5 had no owner; everything else kept its owner
    assert changes["change"].to_dict() == {"a2": "moved", "a4": "moved", "a5": "assigned"}
    assert changes.at["a4", "old_owner_rep_id"] == "R3" and changes.at["a4", "reason"] == "rep departure"
    assert exports.baseline == CRM_BASELINE and set(exports.quota_changes["kind"]) == {"new"}


def _locked(store, version: int, folder, plan: dict[str, pd.DataFrame]) -> None:
    """A lock run carrying the plan tables, and the version locked on it."""
    run = lock_run(folder, version, store_fingerprint(store, version))
    for name, frame in plan.items():
        RunFolder(folder).write_table(name, frame)
    lock_version(store, version, run, [Waiver(criterion="quota_to_potential", by="Vera", reason="caps")])


def test_publish_writes_the_exports_and_records_them(review, tmp_path) -> None:
    store, version = review
    with pytest.raises(PublishError, match="not locked"):
        publish_plan(store, version, outputs=tmp_path / "out")
    _locked(store, version, tmp_path / "out" / "2027Q1" / "lock" / "run1", plan_tables())
    assert locked_versions(store, "2027Q1") == [version]
    first = publish_plan(store, version, outputs=tmp_path / "out", actor="ops1")
    assert first.run_dir.parent == (tmp_path / "out" / "2027Q1" / "publish").resolve() and first.previous is None
    written = read_exports(first.run_dir)
    assert sorted(written["account_owners"]["account_id"]) == [f"a{i}" for i in range(1, 7)]
    assert written["quotas"]["quota"].sum() == pytest.approx(300.0)
    assert RunFolder(first.run_dir).manifest()["status"] == "complete" and RunFolder(first.run_dir).has_table("assignments")
    with store.read() as session:
        assert session.get(PlanVersion, version).state == "published"
        assert session.get(Publication, first.publication_id).accounts_changed == 3
    with pytest.raises(PublishError, match="already published"):
        publish_plan(store, version, outputs=tmp_path / "out")

    # a change after lock: a new version moves a3 to R1 and raises R1's quota; its publication lists exactly that
    second_version = new_version_after_lock(store, version, actor="ops1")
    session_for(store, second_version, "ops1")  # the new version opens for review
    plan = plan_tables()
    plan["assignments"].loc[2, "rep_id"] = "R1"
    plan["books"]["accounts"] = [4, 2, 0]
    plan["quotas"]["quota"] = [110.0, 190.0]
    plan["quota_schedule"]["quota"] = [30.0, 40.0, 40.0, 70.0, 50.0, 70.0]
    _locked(store, second_version, tmp_path / "out" / "2027Q1" / "lock" / "run2", plan)
    second = publish_plan(store, second_version, outputs=tmp_path / "out")
    assert second.previous == str(first.run_dir)
    moved = second.exports.account_changes
    assert moved[["account_id", "old_owner_rep_id", "new_owner_rep_id", "change"]].values.tolist() == [["a3", "R2", "R1", "moved"]]
    assert second.exports.quota_changes.set_index("rep_id")["change"].to_dict() == {"R1": 10.0, "R2": -10.0}
    with store.read() as session:
        assert session.get(Publication, second.publication_id).previous_publication_id == first.publication_id
