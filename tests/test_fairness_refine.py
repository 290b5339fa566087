"""The refined plan: review overrides applied directly to the draft (families move together), books re-measured."""

from __future__ import annotations

import pandas as pd
import pytest

from plan_lib.balance.params import BalanceParams
from plan_lib.fairness.refine import empty_overrides, plan_books, refine_assignments

DRAFT = pd.DataFrame({
    "account_id": ["p1", "c1", "c2", "x1", "x2", "y1"],
    "rep_id": ["R1", "R1", "R1", "R2", "R2", "R3"],
    "previous_rep_id": ["R1", "R1", "R2", "R2", "", "R3"],
    "moved": [False, False, True, False, False, False],
    "reason": ["kept", "kept", "balance", "kept", "new account", "kept"],
    "reason_detail": [""] * 6,
    "family_root": ["p1", "p1", "p1", "x1", "x2", "y1"],  # p1 is the parent of c1 and c2
    "segment": ["SMB", "SMB", "SMB", "SMB", "SMB", "Enterprise"],
})
BOOKS = pd.DataFrame({"rep_id": ["R1", "R2", "R3", "R4"], "segment": ["SMB", "SMB", "Enterprise", "SMB"],
                      "status": ["active", "active", "active", "leaving"], "carries_book": [True, True, True, False]})
REPS = pd.DataFrame({"rep_id": ["M1", "R1", "R2", "R3", "R4"], "role": ["manager", "rep", "rep", "rep", "rep"],
                     "manager_id": [None, "M1", "M1", "M1", "M1"], "segment": [None, "SMB", "SMB", "Enterprise", "SMB"],
                     "region": ["West"] * 5, "status": ["active", "active", "active", "active", "leaving"],
                     "capacity_fte": [0.0, 1.0, 1.0, 1.0, 1.0], "home_lat": [None, 37.0, 34.0, 45.0, 40.0],
                     "home_lon": [None, -122.0, -118.0, -122.0, -120.0]})


def overrides(*rows: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["override_id", "kind", "account_id", "rep_id", "quota", "reason"])
    return frame.assign(from_rep_id=None, author="Mia (M1)", updated_at=pd.Timestamp("2027-01-01") + pd.to_timedelta(frame["override_id"], "min"))


def test_no_overrides_leave_the_draft_as_it_is() -> None:
    refined = refine_assignments(DRAFT, BOOKS, REPS, empty_overrides())
    assert refined.assignments["rep_id"].tolist() == DRAFT["rep_id"].tolist() and refined.moved_in_review == 0
    assert not refined.assignments["overridden"].any() and refined.report.empty and refined.quota_adjustments.empty


def test_a_reassigned_account_takes_its_family_along() -> None:
    refined = refine_assignments(DRAFT, BOOKS, REPS, overrides((1, "reassign", "c1", "R2", None, "R2 knows the group")))
    owners = refined.assignments.set_index("account_id")
    assert owners.loc[["p1", "c1", "c2"], "rep_id"].tolist() == ["R2", "R2", "R2"]  # the whole family, not c1 alone
    assert owners.loc[["x1", "x2", "y1"], "rep_id"].tolist() == ["R2", "R2", "R3"]
    assert owners["overridden"].to_dict() == {"p1": False, "c1": True, "c2": False, "x1": False, "x2": False, "y1": False}
    assert owners.at["c1", "reason"] == "override" and "R2 knows the group" in owners.at["c1", "reason_detail"]
    assert owners.at["p1", "reason"] == "override" and "family" in owners.at["p1", "reason_detail"]
    # moved is against last period's owner: c2 was R2's before, so it is back, not moved
    assert owners["moved"].to_dict() == {"p1": True, "c1": True, "c2": False, "x1": False, "x2": False, "y1": False}
    assert owners["draft_rep_id"].tolist() == DRAFT["rep_id"].tolist()
    assert refined.moved_in_review == 3 and refined.report.at[0, "family_moved"] == 2


def test_a_lock_keeps_the_owner_and_marks_the_account() -> None:
    refined = refine_assignments(DRAFT, BOOKS, REPS, overrides((1, "lock", "x1", "R2", None, "renewal")))
    owners = refined.assignments.set_index("account_id")
    assert owners["rep_id"].tolist() == DRAFT["rep_id"].tolist()
    assert owners.at["x1", "overridden"] and owners.at["x1", "reason"] == "lock"


def test_overrides_that_no_longer_apply_are_reported_not_applied() -> None:
    table = overrides(
        (1, "reassign", "x1", "R4", None, "to the leaver"),  # R4 is leaving
        (2, "reassign", "y1", "R1", None, "wrong segment"),  # y1 is Enterprise, R1 sells SMB
        (3, "quota", None, "R1", 120.0, "bigger book"),
        (4, "quota", None, "M1", 300.0, "team target"),  # a manager's team quota is kept too
    )
    refined = refine_assignments(DRAFT, BOOKS, REPS, table)
    assert refined.assignments["rep_id"].tolist() == DRAFT["rep_id"].tolist()
    status = refined.report.set_index("override_id")["status"].to_dict()
    assert status == {1: "not applicable", 2: "not applicable", 3: "honoured", 4: "honoured"}
    assert refined.quota_adjustments.set_index("rep_id")["quota"].to_dict() == {"M1": 300.0, "R1": 120.0}


def test_refined_books_are_measured_like_the_balancers() -> None:
    accounts = pd.DataFrame({
        "account_id": DRAFT["account_id"], "segment": DRAFT["segment"], "potential": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
        "intent_potential": [1.0] * 6, "is_customer": [True, False, False, True, False, False], "current_arr": [5.0] * 6,
        "employees": [10] * 6, "lat": [37.0] * 6, "lon": [-122.0] * 6, "current_owner": DRAFT["previous_rep_id"],
    })
    refined = refine_assignments(DRAFT, BOOKS, REPS, overrides((1, "reassign", "c1", "R2", None, "R2 knows the group")))
    before = pd.DataFrame({"rep_id": ["R1", "R2", "R3", "R4"], "potential_before": [1.0, 2.0, 3.0, 4.0], "deviation_before": [0.0] * 4})
    books = plan_books(accounts, REPS, refined.assignments, BalanceParams(), before=before).set_index("rep_id")
    assert books.loc["R1", "potential"] == 0.0 and books.loc["R2", "potential"] == pytest.approx(150.0)
    assert books.loc["R2", "accounts"] == 5 and books.loc["R2", "customers"] == 2
    # SMB mean per FTE: 150 over R1 + R2 (R4 is leaving and carries no book) -> R2 is +100%
    assert books.loc["R2", "deviation"] == pytest.approx(1.0) and books.loc["R1", "deviation"] == pytest.approx(-1.0)
    assert books.loc["R3", "potential_before"] == 3.0
