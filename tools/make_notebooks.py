"""Write the pipeline notebooks from their cell sources (outputs-free, with kernelspec).

Editing a notebook in JupyterLab is fine too; this script is how they were
first laid out and keeps their metadata uniform. Run: python tools/make_notebooks.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}

PARAMETERS_HEADER = '''params_path: str = "../parameters/2027Q1.yaml"  # the plan's parameters file
run_dir: str = "."  # run folder this notebook reads from and writes into
data_source: str = ""  # input folder or SQL URL; empty means the `data` key of the parameters'''

MONITOR_PARAMETERS = '''
plan_run: str = ""  # run folder of the plan to monitor (empty: the newest plan run of the period)
as_of: str = ""  # monitoring date YYYY-MM-DD (empty: monitor.as_of of the parameters, else the latest data)'''


def notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    for index, (kind, source) in enumerate(cells):
        if kind == "md":
            cell = nbformat.v4.new_markdown_cell(source.strip())
        else:
            cell = nbformat.v4.new_code_cell(source.strip())
            if kind == "parameters":
                cell.metadata["tags"] = ["parameters"]
        cell["id"] = f"cell-{index:02d}"  # stable ids keep nbdime diffs quiet
        nb.cells.append(cell)
    return nb


NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01_ingest.ipynb": [
        ("md", "# 01 Ingest\nLoad the input tables, validate them against the data contract, quarantine bad rows, and summarise what came in."),
        ("parameters", PARAMETERS_HEADER),
        ("code", """
from plan_lib.charts import plot_inputs
from plan_lib.parameters import load_parameters
from plan_lib.rundir import RunFolder
from plan_lib.steps import ingest_step

params = load_parameters(params_path)
run = RunFolder(run_dir)
result = ingest_step(data_source or params.data, params, run)
"""),
        ("md", "## Reconciliation\nEvery input row is either kept or quarantined: `rows_in = rows_kept + rows_quarantined`."),
        ("code", "result.summary()"),
        ("md", "## Warnings\nUnknown files and columns, absent optional columns, references to people no longer on the roster."),
        ("code", "print('\\n'.join(result.warnings) or 'no warnings')"),
        ("md", "## Quarantined rows by reason\nEach table's rejected rows are in `quarantine/<table>.csv` with row, column and reason."),
        ("code", "result.quarantine_reasons()"),
        ("md", "## The inputs at a glance"),
        ("code", "plot_inputs(result.tables, path=run.figure_path('inputs'));"),
    ],
    "02_score.ipynb": [
        ("md", "# 02 Score\nThe potential of every account: firmographic fit x intent uplift x propensity, plus customer expansion. "
               "Tune the formula in the `scoring` section of the parameters file and re-run; each account's potential breaks down into named contributions."),
        ("parameters", PARAMETERS_HEADER),
        ("code", """
import pandas as pd
from plan_lib.parameters import load_parameters
from plan_lib.rundir import RunFolder
from plan_lib.scoring import charts, model_summary
from plan_lib.steps import score_step

params = load_parameters(params_path)
run = RunFolder(run_dir)
step = score_step(params, run)
scores = step.result.scores
"""),
        ("md", "## Propensity model\nLogit fitted on won/lost opportunities with features as of each opportunity's creation; AUC on an out-of-time holdout. "
               "When history is too thin the documented prior is used, and `fallback` says so."),
        ("code", "model_summary(step.result.model_report).to_frame()"),
        ("code", "step.result.coefficients"),
        ("code", "charts.plot_coefficients(step.result.coefficients, run.figure_path('propensity_coefficients'))"),
        ("code", "charts.plot_calibration(step.result.calibration, run.figure_path('propensity_calibration'))"),
        ("md", "## Potential by segment\nContributions add up to the potential (Shapley attribution from a typical account)."),
        ("code", "scores.groupby('segment')[['potential', 'contrib_base', 'contrib_fit', 'contrib_intent', 'contrib_propensity', 'contrib_expansion']].sum().round(0)"),
        ("code", "charts.plot_contributions(scores, scores.loc[scores['potential'].idxmax(), 'account_id'], run.figure_path('contributions_top_account'))"),
        ("md", "## Backtest\nPotential computed with only the data of an earlier date, against the bookings of the period that followed."),
        ("code", "step.result.backtest.periods if step.result.backtest is not None else 'backtest disabled'"),
        ("code", "charts.plot_lift(step.result.backtest.deciles, run.figure_path('backtest_lift')) if step.result.backtest is not None else None"),
        ("md", "## Compared with the previous run of this period\nRank correlation, biggest risers and fallers, and the component that moved each."),
        ("code", "step.comparison.summary() if step.comparison else 'no previous run of this period'"),
        ("code", "charts.plot_risers_fallers(step.comparison, run.figure_path('risers_fallers')) if step.comparison else None"),
    ],
    "03_balance.ipynb": [
        ("md", "# 03 Balance and quotas\nBooks of business carved with cvxpy (balanced potential per FTE within +/-tau of the segment mean, "
               "compact, few moves), then quotas aligned with each book's potential, down the hierarchy."),
        ("parameters", PARAMETERS_HEADER),
        ("code", """
from plan_lib.balance.charts import moves_summary, plot_balance
from plan_lib.parameters import load_parameters
from plan_lib.quotas import quota_vs_potential, rollup_by_level
from plan_lib.rundir import RunFolder
from plan_lib.steps import balance_step, quota_step

params = load_parameters(params_path)
run = RunFolder(run_dir)
balance = balance_step(params, run)
books, assignments = balance.result.books, balance.result.assignments
"""),
        ("md", "## Review edits honoured\nThe latest plan version's overrides: reassignments and locks constrain the balancer, quota adjustments stay; "
               "an override that can no longer apply says why."),
        ("code", "balance.overrides.report if balance.overrides else 'no review edits yet for this period'"),
        ("md", "## Solver report\nStatus, objective, LP bound and optimality gap per subproblem (segment x region)."),
        ("code", "balance.result.report['summary'] if 'summary' in balance.result.report else balance.result.report"),
        ("md", "## Balance against the band, last period vs plan"),
        ("code", "plot_balance(books, params.balance.tau, run.figure_path('balance'))"),
        ("code", "books.sort_values(['segment', 'deviation'])"),
        ("md", "## What moved, and why"),
        ("code", "moves_summary(assignments, balance.accounts)"),
        ("md", "## Maps\nStatic PNG maps are in `maps/` of the run folder."),
        ("code", "sorted(path.name for path in balance.maps.values())"),
        ("md", "## Quotas\nTop-down from the targets through the hierarchy with over-assignment, ramp, caps and floors; every level sums exactly."),
        ("code", "quotas = quota_step(params, run)\nquotas.capacity"),
        ("code", "print('\\n'.join(str(d) for d in quotas.diagnostics) or 'no diagnostics')"),
        ("code", "figure = quota_vs_potential(quotas.quotas)\nfigure.savefig(run.figure_path('quota_vs_potential'))\nfigure"),
        ("code", "figure = rollup_by_level(quotas.rollup)\nfigure.savefig(run.figure_path('rollup'))\nfigure"),
    ],
    "06_monitor.ipynb": [
        ("md", "# 06 Monitor\nAttainment, pacing and coverage of the plan by rep, team, segment, industry and geography; "
               "weekly trends and period-end forecasts (statsmodels state-space); recommended actions. Run weekly with "
               "`tqp monitor parameters/2027Q1.yaml --as-of DATE`; serve it as a dashboard with Voila."),
        ("parameters", PARAMETERS_HEADER + MONITOR_PARAMETERS),
        ("code", """
from plan_lib.monitor.charts import attainment_distribution, trend_lines, watch_list
from plan_lib.parameters import load_parameters, parse_iso_date
from plan_lib.rundir import RunFolder
from plan_lib.steps import ingest_step, monitor_step, plan_to_monitor

params = load_parameters(params_path)
run = RunFolder(run_dir)
ingest_step(data_source or params.data, params, run)
plan = plan_to_monitor(run, params, plan_run)
result = monitor_step(params, run, plan, parse_iso_date(as_of) if as_of else None)
"""),
        ("md", "## Where the company stands"),
        ("code", "result.attainment[result.attainment['level'] != 'rep'].head(30)"),
        ("code", "figure = attainment_distribution(result.attainment, result.forecast)\nfigure.savefig(run.figure_path('attainment_distribution'))\nfigure"),
        ("md", "## Forecast to period end\nInterval and probability of reaching quota; reps most at risk first."),
        ("code", "result.forecast[result.forecast['level'] == 'rep'].sort_values('prob_reach_quota').head(15)"),
        ("code", "figure = trend_lines(result.weekly, result.forecast, watch_list(result.forecast, 'rep', 6) + [('company', '(company)')])\nfigure.savefig(run.figure_path('trend_lines'))\nfigure"),
        ("md", "## Flags: off track, coverage, trend changes"),
        ("code", "result.flags"),
        ("md", "## Recommended actions\nEach with its numbers and reasoning; accounts to move are in `data/recommended_moves.parquet`."),
        ("code", "result.recommendations"),
    ],
}


def main() -> int:
    out = ROOT / "notebooks"
    names = sys.argv[1:] or list(NOTEBOOKS)
    for name in names:
        nbformat.write(notebook(NOTEBOOKS[name]), out / name)
        print(f"wrote {out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
