"""The I/O side of the lock stage: what ``notebooks/05_lock_fairness.ipynb`` and ``tqp lock`` call.

- :func:`refine_step`: read the draft run, the plan version's overrides from the
  review store, apply them (``refine.py``), re-run the quota step on the refined
  books with the managers' quota adjustments fixed, and write the refined plan
  into the lock run folder (the tables monitoring and publishing read) with its
  maps (``maps/``: books, coverage, moves since last period, moves made in review).
- :func:`fairness_step`: evaluate the criteria on the draft and on the refined
  plan, compare them, check the waivers given, draw the charts and write the
  HTML report ``fairness_report.html`` into the run folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from plan_lib.errors import TqpError
from plan_lib.fairness.charts import criteria_chart, distribution_chart, lorenz_chart
from plan_lib.fairness.criteria import FairnessResult, compare, evaluate
from plan_lib.fairness.lock import LockDecision, decide_lock, parse_waivers, store_fingerprint
from plan_lib.fairness.metrics import account_metrics, rep_metrics
from plan_lib.fairness.params import FairnessParams
from plan_lib.fairness.refine import (
    RefinedAssignments,
    empty_overrides,
    plan_accounts,
    plan_books,
    refine_assignments,
)
from plan_lib.fairness.report import figure_png, render_report
from plan_lib.fairness.target import store_exists
from plan_lib.maps import write_run_maps
from plan_lib.parameters import PlanParameters, load_parameters
from plan_lib.planning import balance_accounts
from plan_lib.quotas import QuotaResult
from plan_lib.review.admin import export_overrides, find_version
from plan_lib.review.models import PlanVersion
from plan_lib.review.store import open_store
from plan_lib.rundir import RunFolder
from plan_lib.runs import INCOMPLETE_PREFIX, Step
from plan_lib.steps import quota_step

#: ``tqp lock``: apply the review, check fairness, write the report.
LOCK_STEPS: tuple[Step, ...] = (Step("lock", "05_lock_fairness.ipynb"),)
#: Draft tables the lock run carries, so it is a complete plan for monitoring and publishing.
CARRIED_TABLES = ("accounts", "scores", "reps", "targets", "quota_history")
#: Parameter sections that shape the plan; a lock with other values than the draft's is flagged.
PLAN_SECTIONS = ("period", "period_start", "period_end", "as_of", "scoring", "balance", "quotas")
REPORT_NAME = "fairness_report.html"
FIGURE_CAPTIONS = {
    "criteria": "Each criterion against its threshold, draft and refined plan",
    "distributions": "Each rep's distance from the group mean, per criterion (grey: draft)",
    "lorenz": "Lorenz curves of potential across FTE (Gini in the legend)",
}


def fairness_parameters(params: PlanParameters) -> FairnessParams:
    """The ``fairness`` section of the parameters, or the defaults until the file has one."""
    section = getattr(params, "fairness", None)
    return section if isinstance(section, FairnessParams) else FairnessParams()


# ------------------------------------------------------------------ the refined plan


@dataclass
class PlanOverrides:
    """A plan version's live overrides and the fingerprint the lock is checked against."""

    version_id: int | None
    name: str
    state: str
    overrides: pd.DataFrame
    fingerprint: str


def read_overrides(store_url: str, version_id: int, plan_run: str | Path) -> PlanOverrides:
    """The overrides of ``version_id`` (0: the newest version based on ``plan_run``); none without a store."""
    if not store_url or not store_exists(store_url):
        return PlanOverrides(None, "", "", empty_overrides(), "")
    store = open_store(store_url)
    try:
        found = version_id or find_version(store, plan_run)
        if not found:
            return PlanOverrides(None, "", "", empty_overrides(), "")
        with store.read() as session:
            version = session.get(PlanVersion, found)
            if version is None:
                raise TqpError(f"plan version {found} does not exist in the review store {store_url}")
            name, state, base = version.name, version.state, Path(version.base_run_dir).resolve()
        if base != Path(plan_run).resolve():
            raise TqpError(f"plan version {found} is based on {base}, not on the plan run {plan_run}")
        return PlanOverrides(int(found), name, state, export_overrides(store, found), store_fingerprint(store, found))
    finally:
        store.dispose()


@dataclass
class RefinedPlan:
    """The draft, the overrides, and the refined plan written into the lock run."""

    draft_run: RunFolder
    source: PlanOverrides
    refined: RefinedAssignments
    accounts: pd.DataFrame  # the balancer's view of the accounts (potential, workload, ...)
    reps: pd.DataFrame
    draft_assignments: pd.DataFrame
    draft_books: pd.DataFrame
    draft_quotas: pd.DataFrame
    books: pd.DataFrame
    quota_result: QuotaResult
    maps: dict[str, Path] = field(default_factory=dict)  # PNG maps of the refined plan, keyed by name
    warnings: list[str] = field(default_factory=list)

    @property
    def quotas(self) -> pd.DataFrame:
        return self.quota_result.quotas


def _parameter_drift(params: PlanParameters, draft: RunFolder) -> list[str]:
    path = draft.path / "parameters.yaml"
    if not path.exists():
        return []
    before, now = load_parameters(path).model_dump(mode="json"), params.model_dump(mode="json")
    if before["period"] != now["period"]:
        raise TqpError(f"the draft {draft.path} plans {before['period']}, these parameters {now['period']}: lock with the draft's period")
    return [f"parameter section '{key}' differs from the draft's: the refined books and quotas use the values given to the lock"
            for key in PLAN_SECTIONS if before.get(key) != now.get(key)]


def refine_step(params: PlanParameters, run: RunFolder, plan_run: str | Path, store_url: str = "", version_id: int = 0) -> RefinedPlan:
    """Apply the plan version's overrides to the draft in ``plan_run`` and write the refined plan into ``run``."""
    draft = RunFolder(Path(plan_run).resolve())
    missing = [t for t in ("assignments", "books", "quotas", "scores", "accounts", "opportunities", "reps", "targets") if not draft.has_table(t)]
    if missing:
        raise TqpError(f"{draft.path} is not a complete draft run (no {', '.join(missing)}): pass the folder `tqp run` printed")
    warnings = _parameter_drift(params, draft)
    for name in CARRIED_TABLES:
        if draft.has_table(name):
            run.write_table(name, draft.read_table(name))
    draft_assignments, draft_books, draft_quotas = (draft.read_table(n) for n in ("assignments", "books", "quotas"))
    for name, frame in (("draft_assignments", draft_assignments), ("draft_books", draft_books), ("draft_quotas", draft_quotas)):
        run.write_table(name, frame)

    source = read_overrides(store_url, version_id, draft.path)
    reps = draft.read_table("reps")
    tables = {"accounts": draft.read_table("accounts"), "opportunities": draft.read_table("opportunities")}
    accounts = plan_accounts(balance_accounts(tables, draft.read_table("scores"), params.snapshot, params.scoring), params.balance)
    refined = refine_assignments(draft_assignments, draft_books, reps, source.overrides)
    books = plan_books(accounts, reps, refined.assignments, params.balance, before=draft_books)
    run.write_table("assignments", refined.assignments)
    run.write_table("books", books)
    maps = write_run_maps(accounts, reps, refined.assignments, books, run.path / "maps", kind="lock", params=params.maps)
    run.write_table("quota_adjustments", refined.quota_adjustments)  # the quota step keeps these as set
    quota_result = quota_step(params, run)
    run.write_table("quota_schedule", quota_result.seasonal)
    run.write_table("overrides", source.overrides)
    run.write_table("override_report", refined.report.astype({"quota": float}))
    status = refined.report["status"].value_counts() if len(refined.report) else pd.Series(dtype=int)
    run.write_report("refine", {
        "plan_run": str(draft.path), "version_id": source.version_id, "version_name": source.name, "version_state": source.state,
        "overrides_fingerprint": source.fingerprint, "overrides": len(source.overrides),
        "honoured": int(status.get("honoured", 0)), "not_applicable": int(status.get("not applicable", 0)),
        "accounts_moved_in_review": refined.moved_in_review, "quota_adjustments": len(refined.quota_adjustments),
        "warnings": warnings,
    })
    return RefinedPlan(draft, source, refined, accounts, reps, draft_assignments, draft_books, draft_quotas, books, quota_result, maps, warnings)


# ------------------------------------------------------------------ fairness


@dataclass
class FairnessAnalysis:
    params: FairnessParams
    draft: FairnessResult
    refined: FairnessResult
    comparison: pd.DataFrame
    draft_reps: pd.DataFrame
    reps: pd.DataFrame
    decision: LockDecision
    figures: dict[str, Figure | None]
    report_path: Path
    edits: dict[str, int]


def edit_counts(plan: RefinedPlan) -> dict[str, int]:
    report = plan.refined.report
    honoured = report[report["status"] == "honoured"] if len(report) else report
    return {
        "honoured": len(honoured), "not_applicable": len(report) - len(honoured), "moved": plan.refined.moved_in_review,
        "family_moved": int(report["family_moved"].sum()) if len(report) else 0,
        "quota": int((honoured["kind"] == "quota").sum()) if len(honoured) else 0,
    }


def fairness_step(params: PlanParameters, run: RunFolder, plan: RefinedPlan, waivers: str = "") -> FairnessAnalysis:
    """Criteria on the draft and the refined plan, their comparison, the lock check, charts and the HTML report."""
    fparams = fairness_parameters(params)
    regions = plan.books.set_index("rep_id")["region"]
    draft_books = plan_books(plan.accounts, plan.reps, plan.draft_assignments, params.balance, before=plan.draft_books)
    draft_reps = rep_metrics(draft_books, plan.draft_quotas, plan.reps)
    reps = rep_metrics(plan.books, plan.quotas, plan.reps)
    draft = evaluate(fparams, draft_reps, account_metrics(plan.draft_assignments, plan.accounts, regions))
    refined = evaluate(fparams, reps, account_metrics(plan.refined.assignments, plan.accounts, regions))
    comparison = compare(draft, refined, fparams)
    report_path = run.path / REPORT_NAME
    final_report = Path(str(report_path).replace(INCOMPLETE_PREFIX, ""))
    decision = decide_lock(refined.criteria, parse_waivers(waivers), final_report)
    figures = {
        "criteria": criteria_chart(draft, refined, fparams),
        "distributions": distribution_chart(draft, refined, fparams),
        "lorenz": lorenz_chart(draft_reps, reps),
    }
    images = {key: figure_png(figure) for key, figure in figures.items() if figure is not None}  # rendered once: file and report
    for key, png in images.items():
        run.figure_path(f"fairness_{key}").write_bytes(png)
    tables = {"fairness_criteria": refined.criteria, "fairness_groups": refined.groups, "fairness_reps": refined.reps,
              "fairness_breaking": refined.breaking, "fairness_draft_criteria": draft.criteria, "fairness_comparison": comparison,
              "rep_metrics": reps, "draft_rep_metrics": draft_reps}
    for name, frame in tables.items():
        run.write_table(name, frame)
    edits = edit_counts(plan)
    source = plan.source
    context = {
        "period": params.period, "plan version": f"{source.version_id} ({source.name}, {source.state})" if source.version_id else "none (draft as is)",
        "draft run": plan.draft_run.path.name, "lock run": run.path.name.replace(INCOMPLETE_PREFIX, ""),
    }
    waiver_rows: list[Mapping[str, Any]] = [w.model_dump() for w in parse_waivers(waivers)]
    html = render_report(title=f"Fairness of the {params.period} plan{f' - {params.title}' if params.title else ''}", context=context,
                         params=fparams, draft=draft, refined=refined, comparison=comparison, reps=reps,
                         overrides=plan.refined.report, edits=edits,
                         figures={FIGURE_CAPTIONS[k]: png for k, png in images.items()}, decision=decision.to_dict(), waivers=waiver_rows)
    report_path.write_text(html, encoding="utf-8")
    run.write_report("fairness", {**refined.summary(), "draft": draft.summary(), "edits": edits,
                                  "verdicts": comparison["verdict"].value_counts().to_dict(), "lock_check": decision.to_dict(),
                                  "report": str(final_report)})
    return FairnessAnalysis(fparams, draft, refined, comparison, draft_reps, reps, decision, figures, final_report, edits)
