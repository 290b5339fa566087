"""Run the notebook chain with papermill into a dated, never-overwritten run folder.

A run is written under ``.incomplete-<id>`` and renamed to ``<id>`` only when
every step succeeded; a failed run is renamed ``<id>-FAILED`` and its manifest
says which notebook and cell failed. So a folder without a suffix is always a
complete run, and a crash never leaves a half run that looks whole.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import papermill
from tqdm.auto import tqdm

from plan_lib.errors import RunStepError, TqpError
from plan_lib.parameters import PlanParameters, load_parameters
from plan_lib.rundir import RunFolder, write_json

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
KEY_PACKAGES = (
    "tqp", "pandas", "numpy", "pyarrow", "pandera", "pydantic", "statsmodels", "cvxpy", "highspy", "geopandas",
    "shapely", "matplotlib", "papermill", "nbdime", "voila", "ipywidgets", "sqlalchemy", "dask",
)
FAILED_SUFFIX = "-FAILED"
INCOMPLETE_PREFIX = ".incomplete-"
RUN_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}\.\d{3}Z-[0-9a-f]{6}$")


@dataclass(frozen=True)
class Step:
    name: str
    notebook: str


#: ``tqp monitor``: fresh actuals, then the monitoring notebook.
MONITOR_STEPS: tuple[Step, ...] = (Step("monitor", "06_monitor.ipynb"),)

#: The draft chain run by ``tqp run``, in order.
DRAFT_STEPS: tuple[Step, ...] = (
    Step("ingest", "01_ingest.ipynb"),
    Step("score", "02_score.ipynb"),
    Step("balance", "03_balance.ipynb"),
)


def notebook_dir() -> Path:
    """Notebooks ship in the repository; TQP_NOTEBOOKS points elsewhere (e.g. an installed copy)."""
    return Path(os.environ.get("TQP_NOTEBOOKS", NOTEBOOK_DIR))


def new_run_id(now: dt.datetime | None = None) -> str:
    """Sortable UTC timestamp without colons, plus a short random id."""
    now = now or dt.datetime.now(dt.UTC)
    stamp = now.strftime("%Y-%m-%dT%H.%M.%S.") + f"{now.microsecond // 1000:03d}Z"
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


def code_version() -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    version: dict[str, Any] = {"tqp": importlib.metadata.version("tqp")}
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "plan_lib", "notebooks"], cwd=root, capture_output=True, text=True, timeout=10)
        if commit.returncode == 0:
            version["git_commit"] = commit.stdout.strip()
            version["git_dirty"] = bool(dirty.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return version


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _execute(step: Step, run: RunFolder, parameters: dict[str, Any]) -> None:
    source = notebook_dir() / step.notebook
    target = run.path / "notebooks" / step.notebook
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            str(source), str(target), parameters=parameters, progress_bar=False, kernel_name="python3", cwd=str(run.path)
        )
    except papermill.PapermillExecutionError as error:
        raise RunStepError(step.notebook, error.cell_index, f"{error.ename}: {error.evalue}", str(run.path)) from None


def run_steps(
    params_path: str | Path,
    steps: tuple[Step, ...] = DRAFT_STEPS,
    data: str | None = None,
    outputs: str | Path | None = None,
    extra_parameters: dict[str, Any] | None = None,
    progress: bool = True,
    stage: str = "draft",
) -> Path:
    """Execute ``steps`` into a new run folder and return its final path.

    Draft runs live in ``<outputs>/<period>/``; other stages (``monitor``, ``lock``)
    in ``<outputs>/<period>/<stage>/`` so they never pass for a draft plan.
    """
    params_path = Path(params_path)
    params = load_parameters(params_path)
    data_source = _resolve_source(data or params.data, params_path)
    # Absolute: each notebook runs with the run folder as its working directory, so a
    # relative path (the default `outputs`, `make demo`) would point nowhere there.
    root = Path(outputs or params.outputs).resolve() / params.period
    if stage != "draft":
        root = root / stage
    run_id = new_run_id()
    run = RunFolder(root / f"{INCOMPLETE_PREFIX}{run_id}")
    run.path.mkdir(parents=True)
    shutil.copyfile(params_path, run.path / "parameters.yaml")
    manifest: dict[str, Any] = {
        "run_id": run_id,
        "stage": stage,
        "period": params.period,
        "status": "running",
        "started_utc": dt.datetime.now(dt.UTC).isoformat(),
        "parameters_file": str(params_path),
        "parameters": params.model_dump(mode="json"),
        "data_source": data_source,
        "code": code_version(),
        "packages": package_versions(),
        "steps": [],
    }
    notebook_parameters = {"params_path": str(run.path / "parameters.yaml"), "run_dir": str(run.path), "data_source": data_source}
    notebook_parameters.update(extra_parameters or {})
    bar = tqdm(steps, desc="tqp run", unit="step", disable=not progress, file=sys.stderr)
    try:
        for step in bar:
            bar.set_postfix_str(step.name)
            started = time.perf_counter()
            entry = {"step": step.name, "notebook": step.notebook, "status": "running"}
            manifest["steps"].append(entry)
            try:
                _execute(step, run, notebook_parameters)
            finally:
                entry["seconds"] = round(time.perf_counter() - started, 3)
            entry["status"] = "ok"
    except (TqpError, Exception) as error:
        entry["status"] = "failed"
        manifest.update(status="failed", error=str(error).split("\n  failed run kept at")[0])
        final = root / f"{run_id}{FAILED_SUFFIX}"
        _finish(run, manifest, final)
        if isinstance(error, RunStepError):
            error.run_dir = str(final)
            raise RunStepError(error.notebook, error.cell, error.error, str(final)) from None
        raise
    finally:
        bar.close()
    manifest["status"] = "complete"
    final = root / run_id
    _finish(run, manifest, final)
    return final


def _finish(run: RunFolder, manifest: dict[str, Any], final: Path) -> None:
    """Merge step reports into the manifest, write it, and move the folder into place."""
    manifest["finished_utc"] = dt.datetime.now(dt.UTC).isoformat()
    reports = run.reports() if (run.path / "reports").exists() else {}
    manifest["reports"] = reports
    ingest = reports.get("ingest", {})
    manifest["inputs"] = {
        name: {k: table[k] for k in ("origin", "sha256", "rows_in", "rows_kept", "rows_quarantined")}
        for name, table in ingest.get("tables", {}).items()
    }
    manifest["warnings"] = ingest.get("warnings", [])
    write_json(run.manifest_path, manifest)
    run.path.rename(final)


def _resolve_source(source: str | None, params_path: Path) -> str:
    if not source:
        raise TqpError(f"{params_path}: no input data: set 'data' in the parameters file or pass --data DIR_OR_URL")
    if "://" in source:
        return source
    return str(Path(source).resolve())


def complete_runs(root: str | Path) -> list[Path]:
    """Complete run folders directly under ``root``, oldest first (never failed or incomplete ones)."""
    return sorted(p for p in Path(root).glob("*") if p.is_dir() and RUN_NAME.match(p.name))


def latest_run(outputs: str | Path, period: str, stage: str = "draft") -> Path | None:
    """The newest complete run of a period and stage."""
    root = Path(outputs) / period
    if stage != "draft":
        root = root / stage
    runs = complete_runs(root)
    return runs[-1] if runs else None


__all__ = ["DRAFT_STEPS", "Step", "run_steps", "latest_run", "new_run_id", "PlanParameters"]
