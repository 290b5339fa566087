"""Entry point of the quota step: ``set_quotas`` reads top to bottom as the recipe.

1. the tree (after reorg) and each book-carrying rep's place in it;
2. ramp and pro-rating per rep, day by day;
3. what history says (last quotas, run rates);
4. the target row of each rep and the method's ideal quota;
5. what is fixed (adjustments, reps not yet started), caps and floors;
6. the convex allocation (relaxed with a diagnostic when caps cannot all hold);
7. rounding that keeps every sum exact; roll-up; seasonal split; capacity check.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from plan_lib.errors import InputError
from plan_lib.quotas.allocate import Allocation, QuotaModel
from plan_lib.quotas.capacity import capacity_check, money
from plan_lib.quotas.hierarchy import (
    ROOT,
    Hierarchy,
    build_hierarchy,
    contribution_matrix,
    gross_up,
    rollup,
)
from plan_lib.quotas.history import summarise_history
from plan_lib.quotas.ideal import historical_weights, match_targets, row_shares
from plan_lib.quotas.params import ROLES, QuotaParams
from plan_lib.quotas.ramp import period_days, ramp_factors, ramp_profile, to_day_array
from plan_lib.quotas.rounding import reconcile_group_totals, round_to_grid
from plan_lib.quotas.seasonality import long_format, seasonal_split


@dataclass(frozen=True)
class Diagnostic:
    """Something the planner should know: what happened, to whom, and what was done about it."""

    code: str
    message: str
    rep_ids: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "rep_ids": list(self.rep_ids)}


@dataclass
class QuotaResult:
    """Everything the quota step produces (see the README, section Quotas, for each column)."""

    quotas: pd.DataFrame
    rollup: pd.DataFrame
    capacity: pd.DataFrame
    diagnostics: list[Diagnostic]
    report: dict[str, Any]
    adjustments: pd.DataFrame
    seasonal: pd.DataFrame = field(repr=False)


def _require(frame: pd.DataFrame, source: str, columns: list[str]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise InputError(source, "missing column", column=column, fix="See the data contract in the README")


def _ids(values: pd.Series) -> pd.Series:
    return values.astype("str").str.strip()


def _names(ids: list[str], limit: int = 12) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def set_quotas(
    books: pd.DataFrame,
    reps: pd.DataFrame,
    targets: pd.DataFrame,
    params: QuotaParams,
    period: str,
    period_start: dt.date,
    period_end: dt.date,
    quota_history: pd.DataFrame | None = None,
    adjustments: pd.DataFrame | None = None,
) -> QuotaResult:
    """Quotas for every book-carrying rep, rolled up the hierarchy, with a capacity check.

    ``books``: one row per book-carrying rep (rep_id, potential; segment, region and
    fte default to the reps table). ``reps``: the contract's roster and hierarchy.
    ``targets``: bookings_target per period x segment x region (empty = all).
    ``quota_history``: past quota and bookings per rep (caps, history, productivity).
    ``adjustments``: manual quotas from review (rep_id, quota, author, reason); a
    rep_id may name a manager, director or VP, whose team then sums to it.
    """
    clock = {"start": time.perf_counter()}
    notes: list[Diagnostic] = []
    _require(books, "books", ["rep_id", "potential"])
    _require(reps, "reps", ["rep_id", "manager_id"])

    # 1. the book-carrying reps and the tree
    roster = reps.assign(rep_id=_ids(reps["rep_id"])).drop_duplicates("rep_id", keep="last").set_index("rep_id")
    leaves, status, leaf_notes = _prepare_leaves(books, roster)
    notes += leaf_notes
    ids = leaves["rep_id"].tolist()

    tree, tree_notes = build_hierarchy(reps.assign(rep_id=_ids(reps["rep_id"])), ids, params.reorg)
    notes += [Diagnostic("hierarchy", text) for text in tree_notes]
    g_node = gross_up(tree, params.over_assignment.factor)
    unknown_roles = sorted({tree.nodes[k] for k in set(tree.parent[1:].tolist()) - {0} if tree.role[k] not in ROLES})
    if unknown_roles:
        notes.append(Diagnostic("unknown_role", "managers without a known role (rep/manager/director/vp) get no "
                                f"over-assignment: {_names(unknown_roles)}", tuple(unknown_roles)))
    g = g_node[tree.leaf_node]
    has_reports = np.bincount(tree.parent[1:], minlength=tree.size) > 0
    carriers = set(ids)
    idle = [n for k, n in enumerate(tree.nodes) if k > 0 and n not in carriers and tree.role[k] == "rep" and not has_reports[k]]
    if idle:
        notes.append(Diagnostic("reps_without_book", f"{len(idle)} reps have no book and get no quota: {_names(idle)}", tuple(idle)))

    # 2. ramp and pro-rating
    days = period_days(period_start, period_end)
    profile, ramp_notes = _ramp(roster, ids, status, days, period_start, params.ramp)
    notes += ramp_notes
    leaving = status == "leaving"
    ramp = profile.mean(axis=1)
    clock["prepare"] = time.perf_counter()

    # 3. history
    all_starts = pd.Series(to_day_array(roster.get("start_date", pd.Series(None, index=roster.index))).astype("datetime64[s]"), index=roster.index)
    history = summarise_history(quota_history, period, period_start, period_end, all_starts, params.ramp, params.history_periods)
    notes += [Diagnostic("history", text) for text in history.notes]

    # 4. target rows and the ideal
    matched = match_targets(targets, period, leaves["segment"], leaves["region"])
    rows, row_of = matched.rows, matched.row_of
    target = rows["target"].to_numpy(dtype=float)
    uncovered = [rid for rid, r in zip(ids, row_of, strict=True) if r < 0]
    if uncovered:
        notes.append(Diagnostic("no_target", f"no target row covers {len(uncovered)} reps (segment/region without a "
                                f"target for {period}); they get no quota: {_names(uncovered)}", tuple(uncovered)))
    potential = leaves["potential"].to_numpy(dtype=float)
    ideal, weight_notes = _ideal(params, potential, ramp, leaves["fte"].to_numpy(float), g, row_of, target, rows,
                                 history.run_rate().reindex(ids).to_numpy(dtype=float))
    notes += weight_notes

    # 5. fixed quotas, adjustments, caps and floors
    fixed = np.full(len(ids), np.nan)
    fixed[(ramp <= 0) | (row_of < 0)] = 0.0
    adjusted_leaf = np.zeros(len(ids), dtype=bool)
    adj_table, node_adjust, adj_notes = _adjustments(adjustments, tree, set(ids), leaving, ids)
    notes += adj_notes
    leaf_pos = {rid: k for k, rid in enumerate(ids)}
    for rid, value in adj_table.loc[adj_table["applied"] & adj_table["is_leaf"], ["rep_id", "quota"]].itertuples(index=False):
        fixed[leaf_pos[rid]] = value
        adjusted_leaf[leaf_pos[rid]] = True
    free = np.isnan(fixed)
    last = history.last_quota.reindex(ids).to_numpy(dtype=float)
    cap_low, cap_high, floor = _bounds(params, status, ramp, last, ideal, free)
    lower = np.maximum(cap_low, floor)

    # 6. allocation
    member = contribution_matrix(tree, g_node)
    allocation, row_rhs, node_rhs, node_ids, model_rows = _allocate(
        params, ideal, fixed, free, g, row_of, target, rows, member, tree, node_adjust, cap_high, lower, ids, notes)
    clock["solve"] = time.perf_counter()
    continuous = np.where(free, 0.0, fixed)
    continuous[free] = allocation.values if allocation is not None else 0.0
    if allocation is not None and allocation.relaxed:
        notes.append(_relaxation_note(allocation, free, ids, row_of, rows, g, cap_high, lower, cap_low, floor, model_rows, row_rhs,
                                      params.solver.relaxation_spread))

    # 7. rounding, roll-up, seasonality, capacity
    final, off_grid = _round(params, continuous, free, g, row_of, tree, node_ids, node_rhs, model_rows, row_rhs, g_node, cap_high, lower)
    if off_grid.any():
        odd = [rid for rid, o in zip(ids, off_grid, strict=True) if o]
        notes.append(Diagnostic("off_grid", f"{len(odd)} quotas are not multiples of {params.rounding:g} so that sums stay "
                                f"exact (a target not on the grid, or bounds with no multiple between them): {_names(odd)}", tuple(odd)))
    clock["round"] = time.perf_counter()
    attributes = pd.DataFrame({c: (roster[c].reindex(tree.nodes) if c in roster.columns else None) for c in ("segment", "region")},
                              index=tree.nodes).astype("str")
    attributes.loc[ids, ["segment", "region"]] = leaves[["segment", "region"]].astype("str").to_numpy()
    rolled = rollup(tree, g_node, final, potential, attributes)
    rolled["target"] = np.nan
    rolled.loc[0, "target"] = float(target.sum())
    units, split = seasonal_split(final, profile, days, params.seasonality, params.rounding)
    clock["rollup"] = time.perf_counter()

    tol = params.solver.binding_tolerance
    cap_binding = free & ((np.isfinite(cap_high) & (continuous >= cap_high * (1 - tol))) | ((cap_low > 0) & (continuous <= cap_low * (1 + tol))))
    floor_binding = free & (floor > 0) & (continuous <= floor * (1 + tol))
    relaxed = np.zeros(len(ids), dtype=bool)
    if allocation is not None:
        relaxed[free] = (allocation.upper_breach > 0) | (allocation.lower_breach > 0)
    parent_of = {tree.nodes[k]: tree.nodes[tree.parent[k]] for k in range(1, tree.size)}
    quotas = pd.DataFrame({
        "rep_id": pd.Series(ids, dtype="str"),
        "manager_id": pd.Series([parent_of[r] if parent_of[r] != ROOT else None for r in ids], dtype="str"),
        "segment": leaves["segment"].astype("str"),
        "region": leaves["region"].astype("str"),
        "status": pd.Series(status, dtype="str"),
        "target_row": pd.Series([rows["label"][r] if r >= 0 else None for r in row_of], dtype="str"),
        "fte": leaves["fte"].to_numpy(float),
        "potential": potential,
        "ramp_factor": ramp,
        "ideal": ideal,
        "quota": final,
        "quota_to_potential": np.where(potential > 0, final / np.where(potential > 0, potential, 1), np.nan),
        "last_quota": last,
        "cap_low": np.where(cap_low > 0, cap_low, np.nan),
        "cap_high": np.where(np.isfinite(cap_high), cap_high, np.nan),
        "floor": np.where(floor > 0, floor, np.nan),
        "cap_binding": cap_binding,
        "floor_binding": floor_binding,
        "relaxed": relaxed,
        "adjusted": adjusted_leaf,
        "off_grid": off_grid,
    })
    for k, label in enumerate(units.labels):
        quotas[f"quota_{label}"] = split[:, k]

    capacity = capacity_check(
        rows, quotas.assign(row=row_of)[["rep_id", "row", "fte", "ramp_factor", "quota"]], history,
        _rep_rows(roster, leaves, row_of, rows), len(days),
        float(ramp_factors(np.array([np.datetime64(period_start, "D")]), period_start, period_end, params.ramp)[0]),
        params.capacity_min_observations,
    )
    clock["capacity"] = time.perf_counter()
    report = _report(params, allocation, quotas, rolled, rows, target, notes, clock, units.names, history.last_period)
    return QuotaResult(quotas, rolled, capacity, notes, report, adj_table.drop(columns=["is_leaf"]),
                       long_format(quotas["rep_id"], units, split))


def _prepare_leaves(books: pd.DataFrame, roster: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, list[Diagnostic]]:
    """Books with segment, region and fte filled from the roster where missing; each rep's status."""
    notes: list[Diagnostic] = []
    leaves = books.assign(rep_id=_ids(books["rep_id"])).reset_index(drop=True)
    if leaves["rep_id"].duplicated().any():
        dup = leaves.loc[leaves["rep_id"].duplicated(), "rep_id"].tolist()
        raise InputError("books", f"several books for {_names(dup)}", column="rep_id", fix="Give each rep one book")
    ids = leaves["rep_id"].tolist()
    for column, source in (("segment", "segment"), ("region", "region"), ("fte", "capacity_fte")):
        if column not in leaves.columns:
            leaves[column] = roster[source].reindex(ids).to_numpy() if source in roster.columns else None
    leaves["fte"] = pd.to_numeric(leaves["fte"], errors="coerce").fillna(1.0).astype(float)
    leaves["potential"] = pd.to_numeric(leaves["potential"], errors="coerce").astype(float)
    if (leaves["potential"] < 0).any():
        bad = leaves.loc[leaves["potential"] < 0, "rep_id"].tolist()
        raise InputError("books", f"negative potential for {_names(bad)}", column="potential",
                         fix="Potential is an expected value and cannot be negative; check the scoring step")
    if leaves["potential"].isna().any():
        missing = leaves.loc[leaves["potential"].isna(), "rep_id"].tolist()
        notes.append(Diagnostic("missing_potential", f"no potential for {_names(missing)}: counted as 0", tuple(missing)))
        leaves["potential"] = leaves["potential"].fillna(0.0)
    if "status" in roster.columns:
        status = roster["status"].reindex(ids).fillna("active").astype(str).str.strip().to_numpy()
    else:
        status = np.full(len(ids), "active")
    return leaves, status, notes


def _ramp(roster: pd.DataFrame, ids: list[str], status: np.ndarray, days: np.ndarray, period_start: dt.date,
          schedule: list[float]) -> tuple[np.ndarray, list[Diagnostic]]:
    """Daily ramp profile (reps x days): open headcount from its planned start, leaving reps at 0."""
    notes: list[Diagnostic] = []
    if "start_date" in roster.columns:
        starts = to_day_array(roster["start_date"].reindex(ids))
    else:
        starts = np.full(len(ids), np.datetime64("NaT"), dtype="datetime64[D]")
    open_no_start = [rid for rid, s, st in zip(ids, starts, status, strict=True) if st == "open" and np.isnat(s)]
    if open_no_start:
        notes.append(Diagnostic("open_without_start", "open headcount without a planned start_date, assumed to start "
                                f"on {period_start}: {_names(open_no_start)}", tuple(open_no_start)))
        starts = np.where((status == "open") & np.isnat(starts), np.datetime64(period_start, "D"), starts)
    profile = ramp_profile(starts, days, schedule)
    leaving = status == "leaving"
    if leaving.any():
        gone = [rid for rid, lv in zip(ids, leaving, strict=True) if lv]
        notes.append(Diagnostic("leaving_with_book", "leaving reps still hold a book and get no quota (rebalance "
                                f"their accounts): {_names(gone)}", tuple(gone)))
        profile[leaving] = 0.0
    return profile, notes


def _bounds(params: QuotaParams, status: np.ndarray, ramp: np.ndarray, last: np.ndarray, ideal: np.ndarray,
            free: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Caps on change (continuing reps: active, fully ramped, with a quota last period) and floors.

    A rep still ramping is not capped: its quota is meant to grow. Absolute
    floors scale with the ramp factor so a new hire's floor is pro-rated too.
    """
    continuing = (status == "active") & (ramp >= 1.0 - 1e-12) & np.isfinite(last) & (last > 0)
    cap_high = np.full(len(ramp), np.inf)
    cap_low = np.zeros(len(ramp))
    if params.max_increase is not None:
        cap_high = np.where(continuing, last * (1 + params.max_increase), np.inf)
    if params.max_decrease is not None:
        cap_low = np.where(continuing, last * (1 - params.max_decrease), 0.0)
    floor = np.zeros(len(ramp))
    if params.floor_share is not None:
        floor = np.maximum(floor, params.floor_share * ideal)
    if params.floor_amount is not None:
        floor = np.maximum(floor, params.floor_amount * ramp)
    return cap_low, cap_high, np.where(free, floor, 0.0)


def _ideal(params: QuotaParams, potential: np.ndarray, ramp: np.ndarray, fte: np.ndarray, g: np.ndarray,
           row_of: np.ndarray, target: np.ndarray, rows: pd.DataFrame, run_rate: np.ndarray) -> tuple[np.ndarray, list[Diagnostic]]:
    """The method's ideal quota per rep (module ``ideal``), with the fallbacks it needed."""
    notes: list[Diagnostic] = []
    by_potential = potential * ramp
    flat_rows = [k for k in range(len(rows)) if target[k] > 0 and by_potential[row_of == k].sum() <= 0 and ramp[row_of == k].sum() > 0]
    if flat_rows:
        notes.append(Diagnostic("no_potential", "no potential in " + "; ".join(rows["label"][flat_rows])
                                + ": the target is shared by ramped FTE instead"))
        for k in flat_rows:
            by_potential[row_of == k] = (fte * ramp)[row_of == k]
    empty = [k for k in range(len(rows)) if target[k] > 0 and ramp[row_of == k].sum() <= 0]
    if empty:
        notes.append(Diagnostic("target_without_reps", "targets with no rep able to carry them this period (add open "
                                "headcount or remove the target; see the capacity check): "
                                + "; ".join(f"{rows['label'][k]} {money(target[k])}" for k in empty)))
    ideal = row_shares(by_potential, g, row_of, target)
    if params.method == "potential_index":
        return ideal, notes
    weights, stand_in = historical_weights(run_rate, potential, row_of)
    if not np.isfinite(run_rate).any():
        notes.append(Diagnostic("history_missing", f"method '{params.method}' needs bookings history and none was "
                                "usable: quotas follow potential only"))
        return ideal, notes
    if stand_in.any():
        notes.append(Diagnostic("history_stand_in", f"{int(stand_in.sum())} reps without bookings history got their "
                                "potential x their row's bookings per potential as history"))
    historical = row_shares(weights * ramp, g, row_of, target)
    if params.method == "historical":
        return historical, notes
    return (1 - params.blend_weight) * ideal + params.blend_weight * historical, notes


def _adjustments(adjustments: pd.DataFrame | None, tree: Hierarchy, leaf_ids: set[str], leaving: np.ndarray,
                 ids: list[str]) -> tuple[pd.DataFrame, dict[str, float], list[Diagnostic]]:
    """Manual quotas as applied: leaves become fixed values, managers become constraints on their team."""
    columns: dict[str, Any] = {"rep_id": "str", "quota": float, "author": "str", "reason": "str", "role": "str",
                               "applied": bool, "note": "str", "is_leaf": bool}
    if adjustments is None or adjustments.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()}), {}, []
    _require(adjustments, "adjustments", ["rep_id", "quota"])
    table = adjustments.copy()
    table["rep_id"] = _ids(table["rep_id"])
    table["quota"] = pd.to_numeric(table["quota"], errors="coerce").astype(float)
    for column in ("author", "reason"):
        if column not in table:
            table[column] = None
    bad = table.loc[table["quota"].isna() | (table["quota"] < 0), "rep_id"].tolist()
    if bad:
        raise InputError("adjustments", f"quota missing or negative for {_names(bad)}", column="quota",
                         fix="Enter the adjusted quota as a non-negative amount")
    notes: list[Diagnostic] = []
    duplicated = table["rep_id"].duplicated(keep="last")
    gone = set(np.asarray(ids)[leaving])
    table["applied"] = ~duplicated & table["rep_id"].isin(tree.index) & ~table["rep_id"].isin(gone)
    table["is_leaf"] = table["rep_id"].isin(leaf_ids)
    table["role"] = [tree.role[tree.index[r]] if r in tree.index else None for r in table["rep_id"]]
    table["note"] = np.where(duplicated, "superseded by a later adjustment of the same rep",
                             np.where(~table["rep_id"].isin(tree.index), "not in the plan's hierarchy",
                                      np.where(table["rep_id"].isin(gone), "rep is leaving: no quota", "fixed")))
    table.loc[table["applied"] & ~table["is_leaf"], "note"] = "team re-balanced to sum to it"
    skipped = table.loc[~table["applied"] & ~duplicated, "rep_id"].tolist()
    if skipped:
        notes.append(Diagnostic("adjustment_ignored", f"adjustments not applied (unknown or leaving): {_names(skipped)}", tuple(skipped)))
    if duplicated.any():
        notes.append(Diagnostic("adjustment_superseded", "several adjustments for "
                                + _names(sorted(set(table.loc[duplicated, "rep_id"]))) + ": the last one counts"))
    node_adjust = {r: float(q) for r, q in table.loc[table["applied"] & ~table["is_leaf"], ["rep_id", "quota"]].itertuples(index=False)}
    table = table[list(columns)].astype({c: t for c, t in columns.items() if t == "str"})
    return table.reset_index(drop=True), node_adjust, notes


def _allocate(params, ideal, fixed, free, g, row_of, target, rows, member, tree, node_adjust, cap_high, lower, ids, notes):
    """Build the constraint data for the free reps, check what can be checked by hand, solve."""
    free_index = np.flatnonzero(free)
    fixed_values = np.where(free, 0.0, fixed)
    contribution = fixed_values / g
    model_rows = [k for k in range(len(rows)) if (row_of[free] == k).any()]
    row_rhs = np.array([target[k] - contribution[row_of == k].sum() for k in model_rows])
    for k in range(len(rows)):
        fixed_here = contribution[row_of == k].sum()
        adjusted_here = [ids[i] for i in np.flatnonzero((row_of == k) & ~free & (fixed > 0))]
        if k not in model_rows and (row_of == k).any() and abs(fixed_here - target[k]) > 1e-6 * max(target[k], 1):
            notes.append(Diagnostic("target_not_met", f"{rows['label'][k]}: every rep's quota is fixed (adjusted or not "
                                    f"started) and they carry {money(fixed_here)} of the {money(target[k])} target", tuple(adjusted_here)))
        if k in model_rows and fixed_here > target[k] * (1 + 1e-9):
            raise InputError("adjustments", f"{rows['label'][k]}: adjusted quotas of {_names(adjusted_here)} carry "
                             f"{money(fixed_here)}, more than the target of {money(target[k])}", column="quota",
                             fix="Lower those adjustments or raise the target")
    node_ids = list(node_adjust)
    node_rows = [tree.index[n] for n in node_ids]
    dense_member = member[node_rows] if node_rows else sp.csr_matrix((0, len(ids)))
    node_rhs = np.array([node_adjust[n] - float((dense_member[j] @ fixed_values).sum()) for j, n in enumerate(node_ids)])
    node_matrix = dense_member[:, free_index]
    for j, n in enumerate(node_ids):
        if node_matrix[j].nnz == 0 and abs(node_rhs[j]) > 1e-6 * max(node_adjust[n], 1):
            raise InputError("adjustments", f"'{n}' is adjusted to {money(node_adjust[n])} but every quota in its team is "
                             f"fixed and they add up to {money(node_adjust[n] - node_rhs[j])}", column="quota",
                             fix="Remove the adjustment of the manager or of one of its reps")
        if node_rhs[j] < -1e-6 * max(node_adjust[n], 1):
            raise InputError("adjustments", f"'{n}' is adjusted to {money(node_adjust[n])}, less than the fixed quotas in "
                             "its team already carry", column="quota", fix="Raise the manager's adjustment or lower its reps'")
    keep = np.asarray(node_matrix.getnnz(axis=1) > 0) if node_ids else np.zeros(0, dtype=bool)
    node_ids = [n for n, k in zip(node_ids, keep, strict=True) if k]
    node_matrix, node_rhs = node_matrix[np.flatnonzero(keep)], node_rhs[keep]
    if len(free_index) == 0:
        return None, row_rhs, node_rhs, node_ids, model_rows
    position = {k: j for j, k in enumerate(model_rows)}
    row_matrix = sp.csr_matrix(
        (1.0 / g[free_index], ([position[r] for r in row_of[free_index]], np.arange(len(free_index)))),
        shape=(len(model_rows), len(free_index)))
    upper_index = np.flatnonzero(np.isfinite(cap_high[free_index]))
    lower_index = np.flatnonzero(lower[free_index] > 0)
    upper, low = cap_high[free_index][upper_index], lower[free_index][lower_index]
    model = QuotaModel(ideal[free_index], row_matrix, node_matrix, upper_index, lower_index, params.solver, upper, low)
    allocation = model.solve(row_rhs, node_rhs)
    if allocation.inaccurate:
        notes.append(Diagnostic("solver_inaccurate", f"the solver reached an inaccurate optimum ({allocation.status}); sums "
                                "are still made exact by the rounding step"))
    return allocation, row_rhs, node_rhs, node_ids, model_rows


def _relaxation_note(allocation: Allocation, free, ids, row_of, rows, g, cap_high, lower, cap_low, floor, model_rows, row_rhs,
                     spread: str) -> Diagnostic:
    """Name the reps whose caps or floors had to give, with the numbers that made it necessary."""
    free_index = np.flatnonzero(free)
    upper = allocation.upper_breach
    low = allocation.lower_breach
    breached = np.flatnonzero((upper > 0) | (low > 0))
    names = [ids[free_index[j]] for j in breached]
    parts = []
    for k in sorted({int(row_of[free_index[j]]) for j in breached}):
        mine = free_index[row_of[free_index] == k]
        # in rep-quota terms when every rep of the row has the same over-assignment above it
        scale = float(g[mine][0]) if np.allclose(g[mine], g[mine][0]) else 1.0
        terms = "of rep quota" if scale != 1.0 or np.allclose(g[mine], 1.0) else "in company terms"
        most = scale * np.sum(cap_high[mine] / g[mine])
        least = scale * np.sum(lower[mine] / g[mine])
        need = scale * row_rhs[model_rows.index(k)]
        over = f" (with over-assignment x{scale:.4g})" if scale != 1.0 else ""
        why = (f"their caps allow at most {money(most)}" if most < need
               else f"caps and floors require at least {money(least)}" if least > need
               else "caps and floors of single reps conflict")
        parts.append(f"{rows['label'][k]}: the reps must carry {money(need)} {terms}{over} but {why}")
    detail = []
    for j in breached:
        i = free_index[j]
        if upper[j] > 0:
            detail.append(f"{ids[i]} +{upper[j] / cap_high[i]:.1%} above its cap")
        else:
            kind = "floor" if floor[i] >= cap_low[i] else "cap on decrease"
            detail.append(f"{ids[i]} {low[j] / lower[i]:.1%} below its {kind}")
    how = ("the breach spread evenly in percent" if spread == "even"
           else "the smallest total breach, placed where quotas stay closest to the ideal")
    message = "caps and floors cannot all hold (" + "; ".join(parts) + f"); relaxed solution with {how}: " + _names(detail, 20)
    return Diagnostic("caps_relaxed", message, tuple(names))


def _round(params, continuous, free, g, row_of, tree, node_ids, node_rhs, model_rows, row_rhs, g_node, cap_high, lower):
    """Round free reps group by group so every target and adjusted manager total stays exact.

    Groups are (target row, innermost adjusted manager above the rep); each target
    and each adjusted manager total is a union of groups, so preserving each
    group's sum (after putting the sums exactly on the constraints) preserves them all.
    """
    final = continuous.copy()
    off_grid = np.zeros(len(final), dtype=bool)
    free_index = np.flatnonzero(free)
    if len(free_index) == 0:
        return final, off_grid
    adjusted = set(node_ids)
    innermost = []
    for i in free_index:
        leaf = tree.leaves[i]
        owner = next((a for a in tree.ancestors(leaf) if a in adjusted), None)
        innermost.append(owner)
    keys = list(zip(row_of[free_index].tolist(), innermost, strict=True))
    group_keys = sorted(set(keys), key=lambda t: (t[0], t[1] or ""))
    group_of = _index_of(keys, group_keys)
    contribution = continuous[free_index] / g[free_index]
    sums = np.bincount(group_of, weights=contribution, minlength=len(group_keys))
    incidence = np.zeros((len(model_rows) + len(node_ids), len(group_keys)))
    for c, k in enumerate(model_rows):
        incidence[c] = [key[0] == k for key in group_keys]
    for c, n in enumerate(node_ids):
        below = set(tree.subtree_leaves(n))
        inside = {key for key, i in zip(keys, free_index, strict=True) if tree.leaves[i] in below}
        incidence[len(model_rows) + c] = [key in inside for key in group_keys]
    rhs = np.concatenate([row_rhs, [node_rhs[c] / g_node[tree.index[n]] for c, n in enumerate(node_ids)]])
    exact = reconcile_group_totals(sums, sp.csr_matrix(incidence), rhs)
    for k in range(len(group_keys)):
        members = free_index[group_of == k]
        values = continuous[members]
        upper, low = cap_high[members], lower[members]
        if params.rounding:  # a relaxed bound is already breached: let rounding go one step further out
            step = params.rounding
            upper = np.where(values > upper, np.ceil(values / step - 1e-9) * step, upper)
            low = np.where(values < low, np.floor(values / step + 1e-9) * step, low)
        upper, low = np.maximum(upper, values), np.minimum(low, values)
        out = round_to_grid(values, params.rounding, total=exact[k], weights=1.0 / g[members], lower=low, upper=upper)
        final[members] = out.values
        off_grid[members] = out.off_grid
    return final, off_grid


def _index_of(keys: list, group_keys: list) -> np.ndarray:
    lookup = {k: j for j, k in enumerate(group_keys)}
    return np.array([lookup[k] for k in keys])


def _rep_rows(roster: pd.DataFrame, leaves: pd.DataFrame, row_of: np.ndarray, rows: pd.DataFrame) -> pd.Series:
    """Target row of every person whose history may count: the book's row, else the roster's segment and region."""
    mapping: dict[str, int] = {}
    if {"segment", "region"} <= set(roster.columns):
        seg = roster["segment"].astype("str").to_numpy()
        reg = roster["region"].astype("str").to_numpy()
        for k, (s, r) in enumerate(zip(rows["segment"], rows["region"], strict=True)):
            hit = np.ones(len(roster), dtype=bool)
            if s is not None:
                hit &= seg == s
            if r is not None:
                hit &= reg == r
            for rid in roster.index[hit]:
                mapping.setdefault(rid, k)
    for rid, r in zip(leaves["rep_id"], row_of, strict=True):
        if r >= 0:
            mapping[rid] = int(r)
    return pd.Series(mapping, dtype=float)


def _report(params, allocation, quotas, rolled, rows, target, notes, clock, subperiods, last_period) -> dict[str, Any]:
    """JSON-serialisable summary for the run manifest."""
    children = rolled[rolled["parent_id"].notna()]
    contribution = (children["quota"] / children["role"].map(params.over_assignment.factor)).groupby(children["parent_id"]).sum()
    parents = rolled.set_index("node_id")["quota"].reindex(contribution.index)
    level_gap = float((contribution - parents).abs().max()) if len(contribution) else 0.0
    root_gap = abs(float(rolled.loc[0, "quota"]) - float(target.sum()))
    stages = ["prepare", "solve", "round", "rollup", "capacity"]
    marks = [clock["start"]] + [clock[s] for s in stages]
    return {
        "method": params.method,
        "solver": params.solver.name,
        "status": allocation.status if allocation is not None else "nothing to solve",
        "relaxed": bool(allocation.relaxed) if allocation is not None else False,
        "objective": float(allocation.objective) if allocation is not None else 0.0,
        "solve_seconds": round(float(allocation.seconds), 4) if allocation is not None else 0.0,
        "reps": int(len(quotas)),
        "reps_with_quota": int((quotas["quota"] > 0).sum()),
        "adjusted": int(quotas["adjusted"].sum()),
        "cap_binding": int(quotas["cap_binding"].sum()),
        "floor_binding": int(quotas["floor_binding"].sum()),
        "relaxed_reps": int(quotas["relaxed"].sum()),
        "off_grid": int(quotas["off_grid"].sum()),
        "target_total": float(target.sum()),
        "company_quota": float(rolled.loc[0, "quota"]),
        "target_gap": root_gap,
        "max_level_sum_error": level_gap,
        "last_period": last_period,
        "subperiods": list(subperiods),
        "diagnostics": [d.to_dict() for d in notes],
        "seconds": {s: round(b - a, 4) for s, a, b in zip(stages, marks[:-1], marks[1:], strict=True)},
    }
