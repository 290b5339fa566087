"""The draft chain through papermill on parameters/test.yaml and small demo data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest

from conftest import REPO
from plan_lib.demo import generate_demo_data, write_demo_data
from plan_lib.rundir import RunFolder
from plan_lib.runs import DRAFT_STEPS, MONITOR_STEPS, latest_run, run_steps

TEST_PARAMS = REPO / "parameters" / "test.yaml"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    write_demo_data(generate_demo_data(n_accounts=1500, n_reps=20, seed=3), folder)
    return folder


@pytest.fixture(scope="module")
def two_runs(demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    outputs = tmp_path_factory.mktemp("outputs")
    first = run_steps(TEST_PARAMS, DRAFT_STEPS, data=str(demo_folder), outputs=outputs, progress=False)
    second = run_steps(TEST_PARAMS, DRAFT_STEPS, data=str(demo_folder), outputs=outputs, progress=False)
    return first, second


def test_chain_writes_every_step_output(two_runs: tuple[Path, Path]) -> None:
    run = RunFolder(two_runs[0])
    manifest = run.manifest()
    assert manifest["status"] == "complete"
    assert [s["step"] for s in manifest["steps"]] == [s.name for s in DRAFT_STEPS]
    for step in DRAFT_STEPS:
        assert (run.path / "notebooks" / step.notebook).exists()
    assert {"accounts", "reps", "opportunities", "intent_signals", "targets"} <= set(run.tables())
    assert {"scores", "assignments", "books", "quotas", "rollup", "capacity"} <= set(run.tables())
    assert manifest["inputs"]["accounts"]["rows_kept"] == 1500
    assert manifest["reports"]["balance"]["lp_bound"] > 0  # the certificate: a lower bound of the full problem
    assert {"books-smb.png", "potential.png", "moves.png"} <= {p.name for p in (run.path / "maps").iterdir()}
    assert (run.path / "figures" / "balance.png").exists()


def test_same_inputs_and_parameters_give_identical_tables(two_runs: tuple[Path, Path]) -> None:
    first, second = (RunFolder(p) for p in two_runs)
    assert first.path != second.path
    # the second run also compares its scores with the first run of the period
    assert set(second.tables()) - set(first.tables()) == {"score_changes"}
    for name in first.tables():
        pdt.assert_frame_equal(first.read_table(name), second.read_table(name), obj=name)


def test_same_seed_gives_same_demo_data_and_another_seed_does_not() -> None:
    a, b, c = (generate_demo_data(n_accounts=1000, n_reps=12, seed=s) for s in (5, 5, 6))
    for name in a.tables:
        pdt.assert_frame_equal(a.tables[name], b.tables[name], obj=name)
    assert not a.tables["accounts"].equals(c.tables["accounts"])


def test_second_run_compares_scores_with_the_first(two_runs: tuple[Path, Path]) -> None:
    report = RunFolder(two_runs[1]).read_report("score")
    assert report["previous_run"] == str(two_runs[0])
    assert report["comparison"]["spearman"] == pytest.approx(1.0)


def test_demo_data_passes_the_contract_without_quarantine(two_runs: tuple[Path, Path]) -> None:
    inputs = RunFolder(two_runs[0]).manifest()["inputs"]
    assert all(table["rows_quarantined"] == 0 for table in inputs.values()), inputs


def test_monitor_run_tracks_the_plan_in_its_own_folder(two_runs: tuple[Path, Path], demo_folder: Path) -> None:
    plan = two_runs[1]
    outputs = plan.parent.parent
    folder = run_steps(
        TEST_PARAMS, MONITOR_STEPS, data=str(demo_folder), outputs=outputs, progress=False, stage="monitor",
        extra_parameters={"plan_run": "", "as_of": "2027-02-15"},
    )
    assert folder.parent == outputs / "2027Q1" / "monitor"
    run = RunFolder(folder)
    assert run.read_report("monitor")["plan_run"] == str(plan)  # the newest plan of the period
    assert {"attainment", "forecast", "recommendations", "flags"} <= set(run.tables())
    attainment = run.read_table("attainment")
    company = attainment[attainment["level"] == "company"].iloc[0]
    assert company["expected_share"] == pytest.approx(46 / 90, abs=0.02)  # 2027-02-15 into a 90-day quarter
    assert (run.path / "maps" / "attainment.png").exists()
    assert latest_run(outputs, "2027Q1") == plan  # a monitor run never passes for a plan
