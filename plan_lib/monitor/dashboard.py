"""The monitoring dashboard: a monitor run folder, read-only, as widgets for Voila.

``tqp dashboard PARAMS`` serves ``notebooks/07_monitor_dashboard.ipynb`` with
Voila on localhost (:func:`serve_dashboard`); the notebook calls :func:`monitor_dashboard`, which reads the run
folder named by ``TQP_MONITOR_RUN_DIR`` (set by the command). Nothing is
recomputed: the page opens in seconds and shows exactly the numbers of the run
folder that `tqp monitor` wrote (its manifest says which plan and which day).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ipywidgets
import pandas as pd

from plan_lib.errors import TqpError
from plan_lib.maps import MapLayers
from plan_lib.maps.monitor_widget import MonitorMap
from plan_lib.parameters import PlanParameters, load_parameters
from plan_lib.review.serve import VoilaServer, kernel_environment, launch_voila
from plan_lib.rundir import RunFolder
from plan_lib.steps import monitor_layers

ENV_RUN = "TQP_MONITOR_RUN_DIR"
NOTEBOOK = "07_monitor_dashboard.ipynb"
#: Rows shown per table (the run folder holds them all).
TABLE_ROWS = 25


@dataclass
class MonitorRun:
    """A complete monitor run folder and the plan it tracked."""

    run: RunFolder
    plan: RunFolder
    params: PlanParameters
    attainment: pd.DataFrame
    forecast: pd.DataFrame
    recommendations: pd.DataFrame
    flags: pd.DataFrame

    @classmethod
    def load(cls, run_dir: str | Path) -> MonitorRun:
        run = RunFolder(Path(run_dir))
        missing = [t for t in ("attainment", "forecast", "recommendations", "flags") if not run.has_table(t)]
        if missing or not (run.path / "parameters.yaml").exists():
            raise TqpError(f"{run_dir} is not a complete monitor run (no {', '.join(missing) or 'parameters.yaml'}): "
                           "pass a folder `tqp monitor` printed")
        plan = RunFolder(Path(run.read_report("monitor")["plan_run"]))
        tables = {name: run.read_table(name) for name in ("attainment", "forecast", "recommendations", "flags")}
        return cls(run, plan, load_parameters(run.path / "parameters.yaml"), **tables)

    def layers(self) -> MapLayers:
        return monitor_layers(self.params, self.run, self.plan, self.attainment)


def headline(view: MonitorRun) -> str:
    """One line of HTML: where the company stands today and where it is heading."""
    company = view.attainment[view.attainment["level"] == "company"].iloc[0]
    outlook = view.forecast[view.forecast["level"] == "company"]
    reps = view.attainment[view.attainment["level"] == "rep"]
    parts = [
        f"<b>{view.params.period}</b>, {company['expected_share']:.0%} of the period elapsed",
        f"attainment <b>{company['attainment']:.0%}</b> (pace {company['pacing']:.2f})",
        f"{reps['on_track'].astype(bool).mean():.0%} of reps on track",
    ]
    if len(outlook):
        row = outlook.iloc[0]
        parts.append(f"forecast {row['attainment_forecast']:.0%} of quota "
                     f"({row['prob_reach_quota']:.0%} chance of reaching it)")
    return "<div class='tqp-headline'>" + "; ".join(parts) + "</div>"


def _table(frame: pd.DataFrame, columns: list[str], css: str) -> ipywidgets.HTML:
    shown = frame[[c for c in columns if c in frame.columns]].head(TABLE_ROWS)
    note = f"<p>first {TABLE_ROWS} of {len(frame)}</p>" if len(frame) > TABLE_ROWS else ""
    return ipywidgets.HTML(shown.to_html(index=False, float_format=lambda v: f"{v:,.2f}", border=0) + note).add_class(css)


def monitor_dashboard(run_dir: str | Path = "") -> ipywidgets.VBox:
    """The dashboard of a monitor run (``run_dir``, else ``$TQP_MONITOR_RUN_DIR``)."""
    folder = run_dir or os.environ.get(ENV_RUN, "")
    if not folder:
        raise TqpError(f"no monitor run given: pass its folder, or set {ENV_RUN} (`tqp dashboard` does)")
    view = MonitorRun.load(folder)
    live = MonitorMap.from_results(view.layers(), view.attainment, view.forecast)
    live.toggle.add_class("tqp-measure")
    at_risk = view.forecast[view.forecast["level"] == "rep"].sort_values("prob_reach_quota")
    tabs = ipywidgets.Tab(children=[
        live.widget,
        _table(at_risk, ["unit_id", "booked_to_date", "quota", "attainment_forecast", "prob_reach_quota", "trend"], "tqp-at-risk"),
        _table(view.recommendations, ["priority", "kind", "level", "unit_id", "headline", "reasoning"], "tqp-recommendations"),
        _table(view.flags, ["level", "unit_id", "flag", "message"], "tqp-flags"),
    ])
    tabs.titles = ("Map", "Reps at risk", "Actions", "Flags")
    return ipywidgets.VBox([ipywidgets.HTML(headline(view)), tabs]).add_class("tqp-monitor")


def dashboard_notebook() -> Path:
    """The dashboard notebook of the repository (``TQP_NOTEBOOKS`` points elsewhere)."""
    from plan_lib.runs import notebook_dir

    path = notebook_dir() / NOTEBOOK
    if not path.exists():
        raise TqpError(f"{path} not found: run from the tqp repository or set TQP_NOTEBOOKS to the folder holding {NOTEBOOK}")
    return path


def start_dashboard(run_dir: str | Path, *, port: int = 0, log: Path | None = None) -> VoilaServer:
    """Voila serving the dashboard of ``run_dir`` on localhost (returns once spawned)."""
    MonitorRun.load(run_dir)  # fail here, with the reason, rather than in the page
    env = kernel_environment({ENV_RUN: str(Path(run_dir).resolve())})
    return launch_voila(dashboard_notebook(), env, port=port, log=log)


def serve_dashboard(run_dir: str | Path, *, port: int = 0, echo: Callable[[str], None] = print) -> int:
    """``tqp dashboard``: serve until interrupted (Ctrl-C or SIGTERM stop Voila and its kernels)."""
    server = start_dashboard(run_dir, port=port)

    def announce() -> None:
        echo(f"monitoring dashboard of {Path(run_dir).resolve()} at http://localhost:{server.port}")
        echo("Ctrl-C stops the server and its kernels")

    return server.serve_until_interrupted(announce)
