"""The draft chain through papermill on parameters/test.yaml and small demo data."""

from __future__ import annotations

from pathlib import Path

import pandas.testing as pdt
import pytest
from conftest import REPO

from plan_lib.demo import generate_demo_data, write_demo_data
from plan_lib.errors import TqpError
from plan_lib.monitor.dashboard import monitor_dashboard, start_dashboard
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


@pytest.fixture(scope="module")
def monitor_folder(two_runs: tuple[Path, Path], demo_folder: Path) -> Path:
    return run_steps(
        TEST_PARAMS, MONITOR_STEPS, data=str(demo_folder), outputs=two_runs[1].parent.parent, progress=False,
        stage="monitor", extra_parameters={"plan_run": "", "as_of": "2027-02-15"},
    )


def test_monitor_run_tracks_the_plan_in_its_own_folder(two_runs: tuple[Path, Path], monitor_folder: Path) -> None:
    plan = two_runs[1]
    outputs = plan.parent.parent
    assert monitor_folder.parent == outputs / "2027Q1" / "monitor"
    run = RunFolder(monitor_folder)
    assert run.read_report("monitor")["plan_run"] == str(plan)  # the newest plan of the period
    assert {"attainment", "forecast", "recommendations", "flags"} <= set(run.tables())
    attainment = run.read_table("attainment")
    company = attainment[attainment["level"] == "company"].iloc[0]
    assert company["expected_share"] == pytest.approx(46 / 90, abs=0.02)  # 2027-02-15 into a 90-day quarter
    assert {"attainment.png", "coverage.png", "unlocated_accounts.csv"} <= {p.name for p in (run.path / "maps").iterdir()}
    assert latest_run(outputs, "2027Q1") == plan  # a monitor run never passes for a plan


def test_monitor_dashboard_shows_the_run_without_recomputing(monitor_folder: Path) -> None:
    run = RunFolder(monitor_folder)
    before = {p: p.stat().st_mtime_ns for p in run.path.rglob("*") if p.is_file()}
    page = monitor_dashboard(monitor_folder)
    headline, tabs = page.children
    assert tabs.titles == ("Map", "Reps at risk", "Actions", "Flags")
    company = run.read_table("attainment").query("level == 'company'").iloc[0]
    assert f"attainment <b>{company['attainment']:.0%}</b>" in headline.value
    live_map = tabs.children[0].children[1]
    zones = next(layer for layer in live_map.layers if layer.name.startswith("Zones"))
    books = next(layer for layer in live_map.layers if layer.name == "Books by pace")
    by_state = run.read_table("attainment").query("level == 'county'")
    assert 0 < len(zones.data["features"]) <= len(by_state)
    assert len(books.data["features"]) == len(RunFolder(Path(run.read_report("monitor")["plan_run"])).read_table("books").query("accounts > 0"))
    at_risk = run.read_table("forecast").query("level == 'rep'").sort_values("prob_reach_quota")
    assert str(at_risk["unit_id"].iloc[0]) in tabs.children[1].value
    assert {p: p.stat().st_mtime_ns for p in run.path.rglob("*") if p.is_file()} == before  # read-only
    with pytest.raises(TqpError, match="not a complete monitor run"):
        monitor_dashboard(_tracked_plan(monitor_folder))


def _tracked_plan(monitor_folder: Path) -> Path:
    return Path(RunFolder(monitor_folder).read_report("monitor")["plan_run"])


def test_tqp_dashboard_serves_until_sigterm_then_stops_its_server(monitor_folder: Path) -> None:
    import signal
    import subprocess
    import sys
    import urllib.request

    command = [sys.executable, "-m", "plan_lib.cli", "dashboard", str(TEST_PARAMS), "--run", str(monitor_folder), "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    try:
        line = process.stdout.readline()
        assert "monitoring dashboard of" in line, line
        url = line.split(" at ")[-1].strip()
        with urllib.request.urlopen(url, timeout=60) as page:
            assert page.status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
    with pytest.raises(OSError):  # the server went with it
        urllib.request.urlopen(url, timeout=5)

    refused = subprocess.run([*command[:-4], "--run", str(_tracked_plan(monitor_folder))], capture_output=True, text=True, cwd=REPO)
    assert refused.returncode == 2 and "not a complete monitor run" in refused.stderr + refused.stdout


@pytest.mark.browser
def test_monitor_dashboard_in_chromium_shows_the_map_and_switches_measure(monitor_folder: Path, tmp_path: Path) -> None:
    from test_review_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, _require_chromium

    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    server = start_dashboard(monitor_folder, log=tmp_path / "voila.log")
    try:
        server.wait_ready()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                page.goto(server.base_url)
                page.wait_for_selector(".tqp-monitor")
                expect(page.locator(".tqp-headline")).to_contain_text("of reps on track")
                # zones and book outlines are drawn as SVG paths, without any tile server
                paths = ".leaflet-container path.leaflet-interactive"
                page.wait_for_function(f"document.querySelectorAll('{paths}').length > 10")
                page.locator(".tqp-measure button", has_text="coverage").click()
                expect(page.locator(".tqp-measure button.mod-active")).to_have_text("coverage")
                expect(page.locator(".leaflet-control-layers")).to_have_count(1)
                assert page.locator(paths).count() > 10
            finally:
                browser.close()
    finally:
        server.stop()
        print((tmp_path / "voila.log").read_text(errors="replace")[-3000:])
