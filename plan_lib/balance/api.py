"""Entry point of the balancing step: frames in, books of business out.

>>> result = balance_books(accounts, reps, BalanceParams(tau=0.03), locks=locks)
>>> result.assignments  # account_id, rep_id, previous_rep_id, moved, reason, reason_detail
>>> result.books        # per rep: potential, fte, potential_per_fte, deviation, workload, ...
>>> result.report       # JSON-serialisable: per subproblem status, objective, lp_bound, gap, ...

Pure: no file I/O (the orchestration layer writes ``assignments.parquet``,
``books.parquet`` and puts ``report`` in the manifest).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from plan_lib.balance.decompose import run_models
from plan_lib.balance.explain import explain
from plan_lib.balance.metrics import assignment_metrics, books_table
from plan_lib.balance.params import BalanceParams
from plan_lib.balance.prepare import Prepared, prepare
from plan_lib.jsonable import to_jsonable

STATUS_ORDER = ("empty", "optimal", "feasible", "time_limit", "rounded", "soft_fallback")


@dataclass
class BalanceResult:
    """Assignments per account, books per rep, and the solver report (JSON-serialisable)."""

    assignments: pd.DataFrame
    books: pd.DataFrame
    report: dict[str, Any]


def balance_books(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    params: BalanceParams | None = None,
    locks: pd.DataFrame | None = None,
    cost: pd.DataFrame | None = None,
) -> BalanceResult:
    """Balanced, compact, continuous books for every account of the plan.

    ``cost``: optional account x rep cost replacing the haversine distance (drive times,
    say), either wide (index account_id, columns rep_id) or long (account_id, rep_id,
    cost); a pair without a cost is not allowed.
    """
    params = params or BalanceParams()
    t0 = time.perf_counter()
    prepared = prepare(accounts, reps, params, locks, cost)
    t_prep = time.perf_counter() - t0
    results, run_info = run_models(prepared.models, params)
    rep_id = _account_reps(prepared, [r.rep_of_unit for r in results])
    acc = prepared.accounts
    eligible_owner = _eligible_owner(prepared)
    before = pd.Series(np.where(eligible_owner, acc["current_owner"].to_numpy(), ""), dtype="str")
    metric = params.balance_metric
    books_before = books_table(acc, prepared.reps, before, metric=metric)
    why = explain(
        acc,
        prepared.reps,
        prepared.unit_flag,
        rep_id,
        eligible_owner,
        books_before.set_index("rep_id")["deviation"],
        cost,
    )
    assignments = pd.DataFrame(
        {
            "account_id": acc["account_id"],
            "rep_id": rep_id,
            "previous_rep_id": acc["current_owner"],
            "moved": why["moved"].to_numpy(),
            "reason": why["reason"].astype("str").to_numpy(),
            "reason_detail": why["reason_detail"].astype("str").to_numpy(),
            "family_root": prepared.unit_flag["family_root"].astype("str").to_numpy(),
            "segment": acc["segment"],
        }
    )
    books = books_table(acc, prepared.reps, rep_id, metric=metric, tau=params.tau)
    books = books.merge(
        books_before[["rep_id", "potential", "deviation"]].rename(
            columns={"potential": "potential_before", "deviation": "deviation_before"}
        ),
        on="rep_id",
        how="left",
    )
    report = _report(
        prepared, results, run_info, params, assignments, rep_id, t_prep, time.perf_counter() - t0
    )
    return BalanceResult(assignments, books, to_jsonable(report))


def _account_reps(prepared: Prepared, reps_per_model: list[np.ndarray]) -> pd.Series:
    rep_id = np.full(len(prepared.accounts), "", dtype=object)
    for model, members, start, rep in zip(
        prepared.models, prepared.members, prepared.unit_start, reps_per_model, strict=True
    ):
        unit_of_member = np.repeat(np.arange(model.n_units), np.diff(start))
        r = rep[unit_of_member]
        rep_id[members] = np.where(r >= 0, model.rep_labels[np.maximum(r, 0)], "")
    return pd.Series(rep_id, dtype="str")


def _eligible_owner(prepared: Prepared) -> np.ndarray:
    """Could the previous owner have kept the account under this plan's rules?"""
    out = np.zeros(len(prepared.accounts), dtype=bool)
    owner = prepared.accounts["current_owner"].to_numpy()
    for model, members, start in zip(
        prepared.models, prepared.members, prepared.unit_start, strict=True
    ):
        pos = pd.Series(np.arange(model.n_reps), index=model.rep_labels)
        r = pd.Series(owner[members]).map(pos).fillna(-1).to_numpy(dtype=np.int64)
        unit_of_member = np.repeat(np.arange(model.n_units), np.diff(start))
        ok = r >= 0
        allowed = np.zeros(len(members), dtype=bool)
        allowed[ok] = model.class_mask[model.class_of_unit[unit_of_member[ok]], r[ok]]
        out[members] = allowed
    return out


def _report(
    prepared: Prepared,
    results: list,
    run_info: dict[str, Any],
    params: BalanceParams,
    assignments: pd.DataFrame,
    rep_id: pd.Series,
    t_prep: float,
    seconds: float,
) -> dict[str, Any]:
    subproblems = [r.report for r in results]
    violations = [
        {"subproblem": r.name, **v} for r in results for v in r.report.get("violations", [])
    ] + [{"subproblem": None, **n} for n in prepared.notes if n.get("violation")]
    diagnostics = [
        {"subproblem": r.name, **r.report["diagnostics"]}
        for r in results
        if "diagnostics" in r.report
    ]
    statuses = [s["status"] for s in subproblems] or ["empty"]
    status = max(statuses, key=STATUS_ORDER.index)
    if violations and status != "soft_fallback":
        status = "soft_fallback"
    objective = sum(s.get("objective", 0.0) for s in subproblems)
    bound = sum(s.get("lp_bound", 0.0) for s in subproblems)
    metrics = assignment_metrics(
        prepared.accounts, prepared.reps, rep_id, metric=params.balance_metric, tau=params.tau
    )
    return {
        "status": status,
        "objective": objective,
        "lp_bound": bound,
        "gap": None
        if status == "soft_fallback"
        else max(0.0, (objective - bound) / max(abs(bound), 1e-9)),
        "seconds": seconds,
        "prepare_seconds": t_prep,
        "execution": run_info,
        "balance_metric": params.balance_metric,
        "tau": params.tau,
        "subproblems": subproblems,
        "notes": [n for n in prepared.notes if not n.get("violation")],
        "diagnostics": diagnostics,
        "violations": violations,
        "metrics": metrics,
        "moves": {
            "accounts_moved": int(assignments["moved"].sum()),
            "by_reason": assignments["reason"].value_counts().sort_index().to_dict(),
        },
    }
