"""A re-run of the period honours the review: edits in the store become balancer locks."""

from __future__ import annotations

import json
from pathlib import Path

from test_review_fixtures import make_run, session_for

from plan_lib.parameters import parse_parameters
from plan_lib.review.admin import create_plan_version, sync_users
from plan_lib.review.params import resolve_store_url
from plan_lib.review.store import open_store
from plan_lib.rundir import RunFolder
from plan_lib.steps import review_overrides


def test_next_run_turns_a_managers_move_into_a_lock(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    draft = make_run(outputs / "2027Q1" / "2026-12-01T09.00.00.000Z-aaaaaa")
    (draft / "manifest.json").write_text(json.dumps({"period": "2027Q1"}))
    params = parse_parameters({"period": "2027Q1", "outputs": str(outputs)})
    store = open_store(resolve_store_url(params.review, outputs))
    sync_users(store, RunFolder(draft).read_table("reps"), roles=("manager", "director", "vp", "rep"))
    version = create_plan_version(store, draft, state="review")  # period taken from the run's manifest
    manager = session_for(store, version, "M1")
    accounts = manager.accounts()
    moved = accounts[accounts["rep_id"] == "R1"].iloc[0]["account_id"]
    _, _, etag = manager.account_state(moved)
    manager.reassign(moved, "R2", "R2 knows the buyer", expected_etag=etag)
    store.dispose()

    rerun = RunFolder(outputs / "2027Q1" / ".incomplete-2026-12-02T09.00.00.000Z-bbbbbb")
    rerun.path.mkdir(parents=True)
    planned = RunFolder(draft)
    applied = review_overrides(params, rerun, planned.read_table("assignments"), planned.read_table("reps"))
    assert applied is not None
    lock = applied.locks[applied.locks["account_id"] == moved]
    assert lock["rep_id"].tolist() == ["R2"]
    assert "honoured" in set(applied.report["status"])
    assert rerun.has_table("overrides_applied")


def test_no_store_means_no_overrides_and_no_store_created(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    draft = make_run(outputs / "2027Q1" / "2026-12-01T09.00.00.000Z-aaaaaa")
    params = parse_parameters({"period": "2027Q1", "outputs": str(outputs)})
    planned = RunFolder(draft)
    assert review_overrides(params, planned, planned.read_table("assignments"), planned.read_table("reps")) is None
    assert not (outputs / "review.sqlite").exists()
