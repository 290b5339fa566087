"""Re-runs honour overrides: locks for the balancer, quota adjustments, and a report of what no longer applies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import test_review_fixtures as fx
from test_review_fixtures import seed_store, session_for

from plan_lib.review.admin import export_overrides
from plan_lib.review.errors import ReviewError
from plan_lib.review.overrides import HONOURED, NOT_APPLICABLE, apply_overrides
from plan_lib.review.store import open_store

run_dir = fx.run_dir  # fixtures from test_review_fixtures, used by name below

ACCOUNTS = pd.DataFrame(
    {
        "account_id": ["A1", "A2", "A3", "A4", "A5", "A6"],
        "segment": ["SMB", "SMB", "SMB", "Enterprise", "SMB", "SMB"],
        "parent_account_id": [None, None, None, None, "FAM", "FAM"],
    }
)
REPS = pd.DataFrame(
    {
        "rep_id": ["R1", "R2", "R3", "R9"],
        "status": ["active", "active", "leaving", "active"],
        "segment": ["SMB", "SMB", "SMB", "Enterprise"],
        "quota": [100.0, 120.0, 90.0, 300.0],
    }
)


def _overrides(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["override_id", "kind", "account_id", "rep_id", "quota", "author", "reason"])
    frame["updated_at"] = pd.date_range("2026-12-01", periods=len(frame), freq="h", tz="UTC")
    return frame


def test_reassignments_and_locks_become_balancer_locks_and_quotas_adjustments() -> None:
    overrides = _overrides(
        [
            (1, "reassign", "A1", "R2", None, "Mia (M1)", "CFO relationship"),
            (2, "lock", "A2", "R1", None, "Mia (M1)", "renewal"),
            (3, "quota", None, "R2", 150.0, "Olga (ops1)", "bigger patch"),
            (4, "lock", "A1", "R2", None, "Olga (ops1)", "confirmed"),
        ]
    )
    locks, adjustments, report = apply_overrides(ACCOUNTS, REPS, overrides)
    assert list(locks.columns) == ["account_id", "rep_id", "source", "reason"]
    assert locks.set_index("account_id")["rep_id"].to_dict() == {"A1": "R2", "A2": "R1"}
    assert (locks["source"] == "override").all()
    assert "reassign by Mia (M1): CFO relationship" in locks.set_index("account_id").at["A1", "reason"]
    assert "lock by Olga (ops1): confirmed" in locks.set_index("account_id").at["A1", "reason"]
    assert adjustments.to_dict("records") == [{"rep_id": "R2", "quota": 150.0, "author": "Olga (ops1)", "reason": "bigger patch"}]
    assert (report["status"] == HONOURED).all()


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ((1, "reassign", "GONE", "R1", None, "a", "r"), "no longer in this run's accounts"),
        ((1, "lock", "A1", "R-OLD", None, "a", "r"), "no longer in this run's roster"),
        ((1, "reassign", "A1", "R3", None, "a", "r"), "leaving"),
        ((1, "lock", "A4", "R1", None, "a", "r"), "is now Enterprise"),
        ((1, "quota", None, "R-OLD", 5.0, "a", "r"), "no longer in this run's roster"),
        ((1, "quota", None, "R1", -5.0, "a", "r"), "not a valid amount"),
    ],
)

def test_overrides_that_no_longer_apply_are_reported_with_the_reason(row: tuple, why: str) -> None:
    locks, adjustments, report = apply_overrides(ACCOUNTS, REPS, _overrides([row]))
    assert locks.empty and adjustments.empty
    assert report.at[0, "status"] == NOT_APPLICABLE and why in report.at[0, "detail"]


def test_later_overrides_supersede_earlier_ones_on_an_account_and_its_family() -> None:
    overrides = _overrides(
        [
            (1, "reassign", "A1", "R1", None, "a", "first"),
            (2, "reassign", "A1", "R2", None, "b", "second"),
            (3, "lock", "A5", "R1", None, "a", "family member to R1"),
            (4, "lock", "A6", "R2", None, "b", "family member to R2"),
            (5, "quota", None, "R1", 10.0, "a", "q1"),
            (6, "quota", None, "R1", 20.0, "b", "q2"),
        ]
    )
    locks, adjustments, report = apply_overrides(ACCOUNTS, REPS, overrides)
    assert locks.set_index("account_id")["rep_id"].to_dict() == {"A1": "R2", "A6": "R2"}
    assert adjustments["quota"].tolist() == [20.0]
    status = report.set_index("override_id")
    assert status.loc[[1, 3, 5], "status"].eq(NOT_APPLICABLE).all()
    assert "superseded by override 2" in status.at[1, "detail"]
    assert "family FAM" in status.at[3, "detail"]
    assert status.loc[[2, 4, 6], "status"].eq(HONOURED).all()


def test_a_malformed_overrides_table_is_refused() -> None:
    with pytest.raises(ReviewError, match="export_overrides"):
        apply_overrides(ACCOUNTS, REPS, pd.DataFrame({"kind": ["lock"]}))


def test_store_overrides_flow_into_the_next_run(tmp_path: Path, run_dir) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'review.sqlite'}")
    try:
        version = seed_store(store, run_dir)
        m1 = session_for(store, version, "M1")
        accounts = m1.accounts().set_index("account_id")
        moved, locked = accounts.index[accounts["rep_id"] == "R1"][:2]
        m1.reassign(moved, "R2", "relationship", 0)
        m1.lock(locked, "renewal", 0)
        m1.set_quota("R3", 5000.0, "part-time", 0)
        # the next run: one account left the data
        next_accounts = pd.read_parquet(run_dir / "data" / "assignments.parquet")
        next_accounts = next_accounts[next_accounts["account_id"] != locked]
        next_reps = pd.read_parquet(run_dir / "data" / "reps.parquet")
        locks, adjustments, report = apply_overrides(next_accounts, next_reps, export_overrides(store, version))
        assert locks.set_index("account_id")["rep_id"].to_dict() == {moved: "R2"}
        assert adjustments.set_index("rep_id")["quota"].to_dict() == {"R3": 5000.0}
        gone = report.set_index("account_id").loc[locked]
        assert gone["status"] == NOT_APPLICABLE and "no longer" in gone["detail"]
    finally:
        store.dispose()
