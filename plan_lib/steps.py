"""The I/O side of each pipeline step: read from the run folder, call the pure
logic, write results back. Notebooks call these (one line each) and then show
tables and charts; the logic modules stay free of file handling.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from plan_lib.balance import BalanceResult, balance_books
from plan_lib.contract import TABLES_BY_NAME
from plan_lib.errors import TqpError
from plan_lib.ingest import IngestResult, enforce_quarantine_limit, ingest
from plan_lib.maps import MapLayers, MapParams, build_layers, write_layer_maps, write_run_maps
from plan_lib.maps.monitor_widget import MonitorMap
from plan_lib.monitor import MonitorResult, monitor_plan
from plan_lib.parameters import PlanParameters
from plan_lib.planning import balance_accounts
from plan_lib.quotas import QuotaResult, set_quotas
from plan_lib.review.admin import export_overrides, latest_version
from plan_lib.review.overrides import AppliedOverrides, apply_overrides
from plan_lib.review.params import resolve_store_url
from plan_lib.review.store import open_store
from plan_lib.rundir import RunFolder
from plan_lib.runs import complete_runs, latest_run
from plan_lib.scoring import ScoreComparison, ScoringResult, compare_scores, score_accounts
from plan_lib.sources import read_inputs


def ingest_step(data_source: str, params: PlanParameters, run: RunFolder) -> IngestResult:
    """Read, validate and store the inputs; write the quarantine before any stop."""
    result = ingest(read_inputs(data_source, params.ingest.tables))
    for name, frame in result.tables.items():
        run.write_table(name, frame)
    for name, rejected in result.quarantine.items():
        if len(rejected):
            path = run.quarantine_path(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            rejected.to_csv(path, index=False)
    run.write_report(
        "ingest",
        {
            "source": data_source,
            "tables": {name: vars(report) for name, report in result.reports.items()},
            "warnings": result.warnings,
        },
    )
    enforce_quarantine_limit(result, params.ingest)
    return result


# ------------------------------------------------------------------ scoring


def contract_tables(run: RunFolder) -> dict[str, pd.DataFrame]:
    """The clean input tables the ingest step wrote into the run."""
    return {name: run.read_table(name) for name in TABLES_BY_NAME if run.has_table(name)}


def previous_run(run: RunFolder, table: str) -> RunFolder | None:
    """The newest complete run of the same period (other than this one) that wrote ``table``."""
    for path in reversed([p for p in complete_runs(run.path.parent) if p != run.path]):
        if RunFolder(path).has_table(table):
            return RunFolder(path)
    return None


@dataclass
class ScoreStep:
    result: ScoringResult
    comparison: ScoreComparison | None
    previous: RunFolder | None


def score_step(params: PlanParameters, run: RunFolder) -> ScoreStep:
    """Score every account as of the snapshot; compare with the previous run of the period."""
    result = score_accounts(contract_tables(run), params.scoring, params.snapshot, params.seed)
    run.write_table("scores", result.scores)
    run.write_table("propensity_coefficients", result.coefficients)
    run.write_table("propensity_calibration", result.calibration)
    run.write_table("propensity_holdout", result.holdout)
    if result.backtest is not None:
        run.write_table("backtest_periods", result.backtest.periods)
        run.write_table("backtest_deciles", result.backtest.deciles)
    previous = previous_run(run, "scores")
    comparison = compare_scores(previous.read_table("scores"), result.scores) if previous else None
    report = {**result.model_report, "previous_run": str(previous.path) if previous else None}
    if comparison is not None:
        report["comparison"] = comparison.summary()
        run.write_table("score_changes", comparison.changes)
    run.write_report("score", report)
    return ScoreStep(result, comparison, previous)


# ------------------------------------------------------------------ balancing and quotas


@dataclass
class BalanceStep:
    result: BalanceResult
    accounts: pd.DataFrame  # the balancer's input: accounts with scores and derived columns
    maps: dict[str, Path]
    overrides: AppliedOverrides | None  # review edits honoured (or not) by this run


def review_overrides(params: PlanParameters, run: RunFolder, accounts: pd.DataFrame, reps: pd.DataFrame) -> AppliedOverrides | None:
    """The latest plan version's review edits, as constraints for this run (None when nobody reviewed yet).

    Reassignments and locks become balancer locks; quota adjustments are kept for
    the quota step; overrides that can no longer apply are reported with the reason.
    """
    url = resolve_store_url(params.review, run.path.parent.parent)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None  # no review store yet: do not create one as a side effect of a draft run
    store = open_store(url)
    try:
        version = latest_version(store, params.period)
        if version is None:
            return None
        applied = apply_overrides(accounts, reps, export_overrides(store, version))
    finally:
        store.dispose()
    run.write_table("overrides_applied", applied.report)
    run.write_table("quota_adjustments", applied.quota_adjustments)
    run.write_report("overrides", {"store": url.split("@")[-1], "version_id": version, "status": applied.report["status"].value_counts().to_dict()})
    return applied


def balance_step(params: PlanParameters, run: RunFolder) -> BalanceStep:
    """Carve the books (honouring review overrides), explain every move, write the maps."""
    tables = contract_tables(run)
    accounts = balance_accounts(tables, run.read_table("scores"), params.snapshot, params.scoring)
    applied = review_overrides(params, run, accounts, tables["reps"])
    result = balance_books(accounts, tables["reps"], params.balance, locks=applied.locks if applied else None)
    run.write_table("assignments", result.assignments)
    run.write_table("books", result.books)
    run.write_report("balance", result.report)
    maps = write_run_maps(accounts, tables["reps"], result.assignments, result.books, run.path / "maps", kind="balance", params=params.maps)
    return BalanceStep(result, accounts, maps, applied)


def quota_step(params: PlanParameters, run: RunFolder) -> QuotaResult:
    """Quotas aligned with the books' potential (review quota adjustments kept), rolled up, reconciled with capacity."""
    tables = contract_tables(run)
    adjustments = run.read_table("quota_adjustments") if run.has_table("quota_adjustments") else None
    books = run.read_table("books")
    result = set_quotas(
        books[books["carries_book"]],  # a leaving rep's empty book gets no quota
        tables["reps"],
        tables["targets"],
        params.quotas,
        params.period,
        params.start,
        params.end,
        quota_history=tables.get("quota_history"),
        adjustments=adjustments,
    )
    run.write_table("quotas", result.quotas)
    run.write_table("rollup", result.rollup)
    run.write_table("capacity", result.capacity)
    run.write_report("quotas", {**result.report, "diagnostics": [d.to_dict() for d in result.diagnostics]})
    return result


# ------------------------------------------------------------------ monitoring


def plan_to_monitor(run: RunFolder, params: PlanParameters, plan_run: str = "") -> RunFolder:
    """The plan a monitoring run tracks: the one named, else the newest plan of the period.

    Once plans are locked and published, the newest published (else locked) plan
    is preferred over a draft; until then the newest complete draft run is used.
    """
    if plan_run:
        plan = RunFolder(plan_run)
        if not plan.has_table("assignments"):
            raise TqpError(f"{plan_run}: not a plan run folder (no data/assignments.parquet); pass the folder `tqp run` printed")
        return plan
    outputs = run.path.parent.parent.parent  # <outputs>/<period>/monitor/<run>
    for stage in ("publish", "lock", "draft"):
        found = latest_run(outputs, params.period, stage)
        if found is not None and RunFolder(found).has_table("assignments"):
            return RunFolder(found)
    raise TqpError(f"no plan run of {params.period} under {outputs}: run `tqp run` first, or pass --plan RUN_FOLDER")


@dataclass
class MonitorStep:
    result: MonitorResult
    layers: MapLayers  # the plan's map layers with attainment per zone (for the live map)
    maps: dict[str, Path]

    def live_map(self, tiles: str | None = None) -> MonitorMap:
        """The dashboard's interactive map: zones by measure, books by their rep's pace."""
        return MonitorMap.from_results(self.layers, self.result.attainment, self.result.forecast, tiles=tiles)


def monitor_map_params(params: PlanParameters, attainment: pd.DataFrame) -> MapParams:
    """The map parameters with the share of the period elapsed (attainment is judged against pace)."""
    elapsed = float(attainment.loc[attainment["level"] == "company", "expected_share"].iloc[0])
    return params.maps.model_copy(update={"elapsed_share": elapsed})


def monitor_layers(params: PlanParameters, run: RunFolder, plan: RunFolder, attainment: pd.DataFrame) -> MapLayers:
    """Map layers of the tracked plan with the monitoring run's attainment per zone (``params.maps.zone``)."""
    zone = params.maps.zone
    by_zone = attainment[attainment["level"] == zone].rename(columns={"unit_id": "county_fips" if zone == "county" else "state"})
    accounts = plan.read_table("accounts").drop(columns=["segment"]).merge(plan.read_table("scores")[["account_id", "segment", "potential"]], on="account_id")
    return build_layers(accounts, run.read_table("reps"), plan.read_table("assignments"), plan.read_table("books"),
                        monitor_map_params(params, attainment), by_zone)


def monitor_step(params: PlanParameters, run: RunFolder, plan: RunFolder, as_of: dt.date | None) -> MonitorStep:
    """Track the plan in ``plan`` against the fresh actuals ingested into ``run``."""
    tables = {name: run.read_table(name) for name in ("accounts", "reps", "opportunities")}
    tables["scores"] = plan.read_table("scores")
    monitor_params = params.monitor.model_copy(update={"balance": params.balance.model_copy(update={"parallel": "sync"})})
    result = monitor_plan(
        tables, plan.read_table("assignments"), plan.read_table("quotas"), plan.read_table("books"),
        monitor_params, as_of, params.start, params.end,
    )
    for name in ("attainment", "forecast", "recommendations", "flags", "weekly"):
        run.write_table(name, getattr(result, name))
    run.write_table("recommended_moves", result.moves)
    run.write_table("recommended_quotas", result.quota_changes)
    run.write_report("monitor", {**result.report, "plan_run": str(plan.path)})
    layers = monitor_layers(params, run, plan, result.attainment)
    maps = write_layer_maps(layers, run.path / "maps", kind="monitor", params=monitor_map_params(params, result.attainment))
    return MonitorStep(result, layers, maps)
