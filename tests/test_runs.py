"""The run folder contract: complete runs look complete, failed runs never do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, valid_tables, write_tables

from plan_lib.diff import diff_runs, format_diff
from plan_lib.errors import RunStepError
from plan_lib.rundir import RunFolder
from plan_lib.runs import DRAFT_STEPS, latest_run, new_run_id, run_steps

TEST_PARAMS = REPO / "parameters" / "test.yaml"


def test_run_ids_sort_by_time_and_have_no_colons() -> None:
    import datetime as dt

    early = new_run_id(dt.datetime(2026, 12, 3, 9, 5, 9, 123000, tzinfo=dt.UTC))
    late = new_run_id(dt.datetime(2026, 12, 3, 14, 5, 9, 1000, tzinfo=dt.UTC))
    assert early.startswith("2026-12-03T09.05.09.123Z-") and ":" not in early
    assert sorted([late, early]) == [early, late]


def test_failed_step_leaves_a_folder_marked_failed(tmp_path: Path) -> None:
    folder = write_tables(tmp_path / "data", valid_tables())
    (folder / "reps.csv").unlink()
    with pytest.raises(RunStepError, match=r"step failed in 01_ingest\.ipynb, cell \d+: InputError: .*reps\.csv: required table 'reps' is missing") as caught:
        run_steps(TEST_PARAMS, DRAFT_STEPS, data=str(folder), outputs=tmp_path / "out", progress=False)
    runs = list((tmp_path / "out" / "2027Q1").iterdir())
    assert len(runs) == 1 and runs[0].name.endswith("-FAILED")
    assert str(runs[0]) in str(caught.value)
    manifest = json.loads((runs[0] / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["steps"][0]["status"] == "failed"
    assert latest_run(tmp_path / "out", "2027Q1") is None


def test_complete_run_has_manifest_with_inputs_and_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # relative data and outputs, as `make demo` passes them
    write_tables(tmp_path / "data", valid_tables())
    run_path = run_steps(TEST_PARAMS, DRAFT_STEPS, data="data", outputs="out", progress=False)
    assert run_path.is_absolute() and latest_run(tmp_path / "out", "2027Q1") == run_path
    manifest = RunFolder(run_path).manifest()
    assert manifest["status"] == "complete"
    assert manifest["inputs"]["accounts"]["rows_in"] == 6
    assert len(manifest["inputs"]["accounts"]["sha256"]) == 64
    assert manifest["parameters"]["period_start"] == "2027-01-01"
    assert {"pandas", "cvxpy", "papermill"} <= set(manifest["packages"])
    assert all(step["status"] == "ok" and step["seconds"] > 0 for step in manifest["steps"])
    assert (run_path / "notebooks" / "01_ingest.ipynb").exists()


def test_diff_of_two_runs_shows_parameter_input_and_row_changes(tmp_path: Path) -> None:
    tables = valid_tables()
    first = run_steps(TEST_PARAMS, DRAFT_STEPS, data=str(write_tables(tmp_path / "a", tables)), outputs=tmp_path / "out", progress=False)
    tables["accounts"].loc[2, "employees"] = "95"
    second = run_steps(TEST_PARAMS, DRAFT_STEPS, data=str(write_tables(tmp_path / "b", tables)), outputs=tmp_path / "out", progress=False)
    report = format_diff(diff_runs(first, second))
    assert "== Parameters\n  data_source" not in report  # the data folder is not a parameter
    assert "accounts: 6 -> 6 rows; added 0, removed 0, changed 1" in report
    assert "A3" in report and "employees" in report
    assert "opportunities: identical" in report
    assert "accounts: {'rows_in': 6, 'sha256'" not in report  # inputs shown per key
    assert "accounts.sha256" in report
