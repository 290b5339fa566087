"""Solve one balance group: LP relaxation with pricing, then an integer solution, then the gap.

Strategy (measured; see DESIGN "Stack notes" and ``benchmarks/balance.py``):

1. **LP.** With at most ``all_pairs_max`` eligible pairs, one LP over all of them.
   Otherwise column generation, in three moves (measured on 57,000 families x 143 reps:
   an LP with soft-band rows costs about eight times one without):

   a. first prices from the LP of a random quarter of the families (recursively, down
      to a few hundred families);
   b. rounds of the group's LP with its soft bands *priced* at the sample's prices
      (fast), each family on its three cheapest reps, pricing adding columns;
   c. once (b) settles, the exact LP with soft-band rows, where the families whose
      best rep wins by a wide margin (``contest_margin``) are held fixed; pricing over
      *every* eligible pair (fixed families included, freed when a better rep appears)
      until the restricted LP is within ``pricing_gap`` of the bound.

   The bound reported is the Lagrangian bound of the full problem at the final
   duals (computed over all eligible pairs): never the value of a restricted LP.
2. **Integer solution.** With at most ``exact_mip_max_vars`` candidate pairs, the MILP
   itself (small problems such as the Pfizer case are solved to optimality).
   Otherwise the integral part of the LP is kept and a MILP re-optimises the
   fractional families together with, per rep they touch, the ``repair_neighbours``
   families that are cheapest to move (smallest reduced-cost regret), each on its
   three cheapest reps at LP prices. It keeps the band hard when the LP met it and
   grows the neighbourhood if it must; soft bands enter at their LP prices.
3. **Gap** = (objective - LP bound) / LP bound, both for the full problem.

Bands are elastic in the LP (see :class:`~plan_lib.balance.model.TerritoryModel`), so a
solve always returns an assignment; positive band slack is a violation, reported with
a diagnosis (:mod:`plan_lib.balance.diagnostics`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from plan_lib.balance.candidates import Prices, Scan, initial_candidates, scan
from plan_lib.balance.errors import BalanceSolverError
from plan_lib.balance.model import BAND_TOL, Candidates, Fixed, Formulation, TerritoryModel
from plan_lib.balance.oversized import relax_unavoidable

#: An LP value of a family at or above this counts as integral.
INTEGRAL = 1.0 - 1e-6
#: Columns per family in a repair MILP: its cheapest by adjusted cost (plus its LP reps).
REPAIR_COLUMNS = 3
#: Columns per contested family in the restricted LP (its cheapest reps at current prices).
LP_COLUMNS = 3
#: Repair window by window only with at least this many families per rep (see _windows_pay).
WINDOW_MIN_UNITS_PER_REP = 100
#: Large groups get first prices from a sample of 1/SAMPLE_DIVISOR of their families...
SAMPLE_DIVISOR = 4
#: ...when that sample has at least this many families.
SAMPLE_MIN_UNITS = 500


@dataclass(frozen=True)
class SolveOptions:
    """The solver knobs of :class:`~plan_lib.balance.params.BalanceParams`, as a plain picklable record."""

    k_nearest: int = 6
    long_range: int = 2
    all_pairs_max: int = 100_000
    exact_mip_max_vars: int = 500
    max_pricing_rounds: int = 12
    pricing_gap: float = 1e-4
    contest_margin: float = 0.25
    repair_neighbours: int = 30
    repair_max_units: int = 3_000
    time_limit: float = 120.0
    repair_time_limit: float = 20.0
    repair_window_reps: int = 24
    mip_gap: float = 2e-3
    seed: int = 0

    @classmethod
    def from_params(cls, params: Any) -> SolveOptions:
        return cls(**{name: getattr(params, name) for name in cls.__dataclass_fields__})


@dataclass
class SubproblemResult:
    """Assignment (rep index per unit, -1 = unassigned) and the solver report of one group."""

    name: str
    rep_of_unit: np.ndarray
    report: dict[str, Any] = field(default_factory=dict)


@dataclass
class LPState:
    """The LP phase's outcome."""

    form: Formulation  # the last LP (over the free families)
    cands: Candidates  # its columns
    fixed: np.ndarray  # (U,) rep of each family held fixed, -1 = free
    value: float  # full LP value (free part + fixed families' cost)
    bound: float  # lower bound of the full problem
    bound_method: str
    rounds: int
    scan: Scan  # adjusted costs at the final prices
    prices: Prices
    n_free: int


def solve_model(model: TerritoryModel, opts: SolveOptions | None = None) -> SubproblemResult:
    """Balance one group; never raises for infeasible settings (see module docstring)."""
    from plan_lib.balance.diagnostics import diagnose, presolve_findings

    opts = opts or SolveOptions()
    t0 = time.perf_counter()
    report: dict[str, Any] = {
        "name": model.name,
        "n_accounts": int(model.n_members.sum()) if model.n_members is not None else model.n_units,
        "n_units": model.n_units,
        "n_reps": model.n_reps,
        "tau": model.tau,
    }
    if model.n_units == 0 or model.n_reps == 0:
        report.update(
            status="empty", objective=0.0, lp_bound=0.0, gap=0.0, seconds=0.0, n_candidates=0
        )
        return SubproblemResult(model.name, np.full(model.n_units, -1), report)
    findings = presolve_findings(model)
    # Reps whose band no arrangement can meet get it centred on what they must carry;
    # everyone else keeps the hard band (see oversized.py). The solver sees ``working``.
    working, relaxed = relax_unavoidable(model)

    lp = lp_phase(working, opts)
    timings = {"lp": time.perf_counter() - t0}
    penalty = lp.form.M
    lp_feasible = lp.form.hard_slack() <= BAND_TOL

    t1 = time.perf_counter()
    exact_mip = lp.n_free == model.n_units and len(lp.cands) <= opts.exact_mip_max_vars
    windowed = None
    if exact_mip:
        rep, integer_info = _exact_mip(working, lp.cands, opts, penalty)
    else:
        if _windows_pay(working, opts) and lp_feasible:
            windowed = _windowed_repair(working, lp, opts, penalty)
        if windowed is not None:
            rep, integer_info = windowed
        else:
            rep, integer_info = _repair(working, lp, opts, penalty, lp_feasible)
    timings["integer"] = time.perf_counter() - t1

    ev = model.evaluate(rep, penalty=penalty)
    violated = bool(ev.band_excess.sum() > 0 or ev.cap_excess > 1e-9)
    status = integer_info.pop("integer_status")
    report.update(
        objective=ev.objective,
        cost=ev.cost,
        soft_penalty=ev.soft_penalty,
        lp_value=lp.value,
        lp_bound=lp.bound,
        bound_method=lp.bound_method,
        pricing_rounds=lp.rounds,
        n_candidates=len(lp.cands),
        n_free_units=lp.n_free,
        n_eligible_pairs=model.n_eligible_pairs(),
        max_relative_deviation=float(np.max(np.abs(ev.relative_load - 1.0)))
        if model.has_band
        else 0.0,
        **integer_info,
    )
    if relaxed:
        report["unavoidable_violations"] = [r.to_dict(model) for r in relaxed]
        # The certificate of what was solved: every other rep inside the hard band.
        report["gap_with_unavoidable_violations"] = (
            _gap(working.evaluate(rep, penalty=penalty).objective, lp.bound) if lp_feasible else None
        )
    if violated:
        report["status"] = "soft_fallback"
        report["gap"] = None
        report["violations"] = _violations(model, ev)
        report["diagnostics"] = {
            "findings": findings,
            **diagnose(model, _all_columns(model, lp), opts, lp_feasible, ev),
        }
    else:
        report["gap"] = _gap(ev.objective, lp.bound)
        # A proven MILP bound (exact path) can be far better than the LP bound on small,
        # lumpy groups; report the gap to the best certificate too.
        best = max(lp.bound, report.get("mip_bound") or -np.inf)
        report["best_bound"] = best
        report["gap_to_best_bound"] = _gap(ev.objective, best)
        report["status"] = status
        if findings:
            report["diagnostics"] = {"findings": findings}
    timings["total"] = time.perf_counter() - t0
    report["seconds"] = timings["total"]
    report["timings"] = timings
    return SubproblemResult(model.name, rep, report)


def _gap(objective: float, bound: float) -> float:
    return max(0.0, (objective - bound) / max(abs(bound), 1e-9))


def _solve(form: Formulation, opts: SolveOptions) -> Formulation:
    form.solve(time_limit=opts.time_limit, mip_gap=opts.mip_gap, seed=opts.seed)
    return form


def lp_phase(model: TerritoryModel, opts: SolveOptions) -> LPState:
    """LP relaxation of the full problem (see the module docstring)."""
    fixed = np.full(model.n_units, -1)
    if model.n_eligible_pairs() <= opts.all_pairs_max:
        cands = model.all_pairs()
        form = _solve(model.formulate(cands), opts)
        form = _exact_penalty_check(model, form, cands, fixed, opts)
        prices = Prices.from_duals(model, form.duals())
        return LPState(
            form,
            cands,
            fixed,
            form.value,
            form.value,
            "LP over all eligible pairs",
            0,
            scan(model, prices),
            prices,
            model.n_units,
        )

    first = _sample_prices(model, opts)
    soft_prices = None
    if first is None:  # small enough: start from k nearest + long-range columns, all families free
        cands = initial_candidates(model, opts.k_nearest, opts.long_range)
    else:
        # Soft bands first enter this (large) LP at the sample's prices: without their 4 x 2
        # rows per rep HiGHS is several times faster while pricing finds the right columns.
        # Once that settles, the soft rows come back for the last rounds (exact LP, exact duals).
        soft_prices = [
            np.clip(pi, -r.weight / r.scale, r.weight / r.scale)
            for r, pi in zip(model.soft, first.soft, strict=True)
        ]
        cands = _columns(model, scan(model, first), np.arange(model.n_units), LP_COLUMNS)
    best_bound, rounds, last_good = -np.inf, 0, first
    while True:
        form = _solve(model.formulate(cands, fixed=Fixed(fixed), soft_prices=soft_prices), opts)
        value = form.value + _fixed_cost(model, fixed, soft_prices)
        if (
            form.hard_slack() > BAND_TOL
            and last_good is not None
            and rounds < opts.max_pricing_rounds
        ):
            # The columns cannot meet the band: its duals are the penalty M, useless as prices.
            # Free every family, each with its cheapest reps at the last good prices.
            sc_good = scan(model, last_good, LP_COLUMNS)
            fixed[:] = -1
            cands = cands.union(
                model, *_pairs(_columns(model, sc_good, np.arange(model.n_units), LP_COLUMNS))
            )
            last_good, rounds = None, rounds + 1
            continue
        prices = Prices.from_duals(model, form.duals(), soft_prices)
        if form.hard_slack() <= BAND_TOL:
            last_good = prices
        sc = scan(model, prices)
        best_bound = max(best_bound, sc.bound)
        alpha = _current_adjusted(model, prices, form, cands, fixed)
        tol = 1e-7 * np.maximum(1.0, np.abs(alpha))
        negative = sc.top_val < (alpha - tol)[:, None]
        improvable = negative[:, 0]
        # Pricing deficit: how far the restricted LP is from the Lagrangian bound of the full problem.
        deficit = float(np.maximum(alpha - sc.top_val[:, 0], 0.0)[np.isfinite(alpha)].sum())
        close = form.hard_slack() <= BAND_TOL and deficit <= opts.pricing_gap * abs(sc.bound)
        if soft_prices is not None and (
            not improvable.any() or close or rounds >= opts.max_pricing_rounds // 2
        ):
            # Back to exact soft rows. The band prices are now those of the whole group, so
            # the families whose best rep wins by a wide margin are held there, and the LP
            # with soft rows (the slow one) only sees the contested rest; pricing still
            # checks everyone.
            rep_now, top_now = form.unit_reps()
            current = np.where(fixed >= 0, fixed, rep_now)
            settled = (sc.margin > opts.contest_margin * _price_error(model, prices)) & (
                sc.top_rep[:, 0] == current
            )
            settled &= (fixed >= 0) | (top_now >= INTEGRAL)
            fixed = np.where(settled, current, -1)
            used = (np.asarray(form.x.value) > 1e-9) & (fixed[cands.unit] < 0)
            fresh = _columns(model, sc, np.flatnonzero(fixed < 0), LP_COLUMNS)
            cands = Candidates.build(
                model, np.r_[cands.unit[used], fresh.unit], np.r_[cands.rep[used], fresh.rep]
            )
            soft_prices, best_bound = None, -np.inf
            rounds += 1
            continue
        if not improvable.any() or close or rounds >= opts.max_pricing_rounds:
            break
        # Fixed families with a better rep are freed; free families get their improving columns.
        freed = np.flatnonzero(improvable & (fixed >= 0))
        rows, cols = np.nonzero(negative[:, :2] & (fixed < 0)[:, None])
        fresh = _columns(model, sc, freed, LP_COLUMNS)
        cands = cands.union(
            model,
            np.r_[rows, fresh.unit, freed],
            np.r_[sc.top_rep[rows, cols], fresh.rep, fixed[freed]],
        )
        fixed[freed] = -1
        rounds += 1
    form = _exact_penalty_check(model, form, cands, fixed, opts, soft_prices)
    if not improvable.any():
        method = "Lagrangian bound at the LP optimum over all eligible pairs (pricing converged)"
    elif close:
        method = "Lagrangian bound over all eligible pairs (pricing stopped within pricing_gap)"
    else:
        method = "Lagrangian bound over all eligible pairs (max_pricing_rounds reached)"
    bound = best_bound
    return LPState(
        form, cands, fixed, value, bound, method, rounds, sc, prices, int((fixed < 0).sum())
    )


def _sample_prices(model: TerritoryModel, opts: SolveOptions) -> Prices | None:
    """First prices from the LP of a random sample of ``1/SAMPLE_DIVISOR`` of the families
    (recursively, so a huge group is priced through a chain of ever smaller samples);
    None when the group is too small for sampling to pay."""
    size = model.n_units // SAMPLE_DIVISOR
    if size < SAMPLE_MIN_UNITS:
        return None
    rng = np.random.default_rng(opts.seed)
    sample = model.subsample(rng.choice(model.n_units, size, replace=False))
    state = lp_phase(sample, opts)
    # Prices per unit of each metric carry over from the sample to the whole group.
    p = state.prices
    return Prices(p.band, p.soft, p.cap, 0.0)


def _price_error(model: TerritoryModel, prices: Prices) -> np.ndarray:
    """How far a family's adjusted costs may move when sample prices become the group's:
    its metrics times the typical spread of the prices (median absolute deviation)."""

    def spread(pi: np.ndarray) -> float:
        return float(np.median(np.abs(pi - np.median(pi))))

    scale = np.zeros(model.n_units)
    if prices.band is not None:
        scale += model.balance * spread(prices.band)
    for rows, pi in zip(model.soft, prices.soft, strict=True):
        scale += np.abs(rows.values) * spread(pi)
    return scale


def _exact_penalty_check(
    model: TerritoryModel,
    form: Formulation,
    cands: Candidates,
    fixed: np.ndarray,
    opts: SolveOptions,
    soft_prices: list[np.ndarray] | None = None,
) -> Formulation:
    """A feasible band never needs slack unless M is too small: retry once with 1000 x M."""
    if form.hard_slack() <= BAND_TOL:
        return form
    stronger = _solve(
        model.formulate(cands, fixed=Fixed(fixed), penalty=form.M * 1e3, soft_prices=soft_prices),
        opts,
    )
    return stronger if stronger.hard_slack() <= BAND_TOL else form


def _columns(model: TerritoryModel, sc: Scan, units: np.ndarray, m: int) -> Candidates:
    """The ``m`` cheapest reps (adjusted) of ``units``, plus their current owners."""
    m = min(m, sc.top_rep.shape[1])
    u = np.repeat(units, m)
    r = sc.top_rep[units, :m].ravel()
    ok = np.isfinite(sc.top_val[units, :m].ravel())
    us, rs = [u[ok]], [r[ok]]
    for owners in (model.keep_weight, model.cap_keep):
        if owners is not None and len(units):
            sub = owners[units].tocoo()
            good = sub.data > 0
            rows, reps = units[sub.row[good]], sub.col[good]
            elig = model.eligible(rows)[np.arange(len(rows)), reps]
            us.append(rows[elig])
            rs.append(reps[elig])
    return Candidates.build(model, np.concatenate(us), np.concatenate(rs))


def _current_adjusted(
    model: TerritoryModel, prices: Prices, form: Formulation, cands: Candidates, fixed: np.ndarray
) -> np.ndarray:
    """Adjusted cost of each family's current LP choice (its dual alpha): the min over its
    columns for free families, the fixed rep's for fixed ones."""
    alpha = np.full(model.n_units, np.inf)
    np.minimum.at(alpha, cands.unit, prices.adjust_pairs(model, cands))
    held = np.flatnonzero(fixed >= 0)
    if len(held):
        pairs = Candidates(held, fixed[held], model.pair_costs(held, fixed[held]))
        alpha[held] = prices.adjust_pairs(model, pairs)
    return alpha


def _pairs(cands: Candidates) -> tuple[np.ndarray, np.ndarray]:
    return cands.unit, cands.rep


def _all_columns(model: TerritoryModel, lp: LPState) -> Candidates:
    """The LP's columns plus, for families held fixed, their rep and cheapest alternatives."""
    held = np.flatnonzero(lp.fixed >= 0)
    if len(held) == 0:
        return lp.cands
    extra = _columns(model, lp.scan, held, LP_COLUMNS)
    return Candidates.build(
        model,
        np.r_[lp.cands.unit, extra.unit, held],
        np.r_[lp.cands.rep, extra.rep, lp.fixed[held]],
    )


def _fixed_cost(
    model: TerritoryModel, fixed: np.ndarray, soft_prices: list[np.ndarray] | None = None
) -> float:
    """Objective contribution of the fixed families (with priced soft bands, if the LP prices them)."""
    held = np.flatnonzero(fixed >= 0)
    if len(held) == 0:
        return 0.0
    total = float(model.pair_costs(held, fixed[held]).sum())
    for rows, pi in zip(model.soft, soft_prices or [], strict=False):
        total += float((rows.values[held] * pi[fixed[held]]).sum())
    return total


def _exact_mip(
    model: TerritoryModel, cands: Candidates, opts: SolveOptions, penalty: float
) -> tuple[np.ndarray, dict[str, Any]]:
    form = model.formulate(cands, integer=True, penalty=penalty)
    # Small but lumpy groups can keep branch and bound busy for long: same budget as a repair.
    status = form.solve(time_limit=opts.repair_time_limit, mip_gap=opts.mip_gap, seed=opts.seed)
    rep, _ = form.unit_reps()
    return rep, {
        "integer_method": "MILP over all candidates",
        "integer_status": "optimal" if status == "optimal" else "feasible",
        "time_limit_hit": status != "optimal",
        "mip_bound": form.mip_bound(),
        "n_fractional": None,
    }


def _repair(
    model: TerritoryModel, lp: LPState, opts: SolveOptions, penalty: float, lp_feasible: bool
) -> tuple[np.ndarray, dict[str, Any]]:
    """Keep the LP's integral families, re-optimise the rest (and cheap neighbours) as a MILP.

    The band stays hard when the LP met it (pruning is far better, and an infeasible
    small MILP is detected at once); the neighbourhood grows to every rep if needed,
    and a last elastic attempt returns the closest assignment with its violations.
    """
    free_rep, top = lp.form.unit_reps()
    rep_lp = np.where(lp.fixed >= 0, lp.fixed, free_rep)
    x = np.asarray(lp.form.x.value)
    fractional = np.flatnonzero((lp.fixed < 0) & (top < INTEGRAL))
    sc = lp.scan
    regret = np.where(sc.top_rep[:, 0] == rep_lp, sc.margin, 0.0)
    positive = x > 1e-9
    touched = np.unique(lp.cands.rep[positive & np.isin(lp.cands.unit, fractional)])
    room = max(opts.repair_max_units - len(fractional), 0)
    neighbours = min(opts.repair_neighbours, room // max(len(touched), 1))
    info: dict[str, Any] = {
        "integer_method": "LP rounding + repair MILP",
        "n_fractional": len(fractional),
    }
    abs_gap = opts.mip_gap * abs(lp.bound)
    attempts = 3 if lp_feasible else 0
    rep = rep_lp.copy()
    status = "rounded"
    attempt, elastic = 0, not lp_feasible
    while True:
        elastic = elastic or attempt == attempts  # the last attempt always has a solution
        pool = _pool(rep_lp, regret, touched, neighbours, exclude=fractional)
        free = np.union1d(fractional, pool)
        fixed = rep_lp.copy()
        fixed[free] = -1
        m = min(REPAIR_COLUMNS, sc.top_rep.shape[1])
        u = np.r_[np.repeat(free, m), lp.cands.unit[positive], free]
        r = np.r_[sc.top_rep[free, :m].ravel(), lp.cands.rep[positive], rep_lp[free]]
        ok = np.isin(u, free) & model.eligible(u)[np.arange(len(u)), r]
        sub = Candidates.build(model, u[ok], r[ok])
        info.update(repair_units=len(free), repair_columns=len(sub), repair_attempts=attempt + 1)
        if len(sub) == 0:
            status = "feasible"
            break
        form = model.formulate(
            sub,
            integer=True,
            fixed=Fixed(fixed),
            penalty=penalty,
            soft_prices=lp.prices.soft,
            elastic=elastic,
        )
        try:
            mstatus = form.solve(
                time_limit=opts.repair_time_limit, mip_gap=1e-9, seed=opts.seed, mip_abs_gap=abs_gap
            )
        except BalanceSolverError as exc:
            attempt += 1
            if elastic:
                info["repair_error"] = str(exc)
                break
            if exc.status == "user_limit":
                # No solution within the time limit: the elastic MILP finds one at once.
                info["time_limit_hit"] = elastic = True
                continue
            # The neighbourhood cannot meet the band: let more families, on every rep, move.
            touched = np.arange(model.n_reps)
            neighbours = max(2 * neighbours, room // model.n_reps, 4)
            continue
        rep = fixed.copy()
        sub_rep, _ = form.unit_reps()
        rep[free] = sub_rep[free]
        status = "feasible"
        if mstatus != "optimal":
            info["time_limit_hit"] = True
        break
    if elastic:
        # A time-limited elastic MILP can end far from the band; never return something
        # worse than plain rounding of the LP.
        mine, rounded = model.evaluate(rep, penalty), model.evaluate(rep_lp, penalty)
        if (rounded.band_excess.sum(), rounded.objective) < (
            mine.band_excess.sum(),
            mine.objective,
        ):
            rep, status = rep_lp.copy(), "rounded"
    info["integer_status"] = status
    return rep, info


def _windows_pay(model: TerritoryModel, opts: SolveOptions) -> bool:
    """Window-by-window repair suits groups with many reps and many families per rep
    (a window then has plenty of small families to trade); lumpy groups (few, unequal
    families per rep) need trades across the whole group, and a global move cap couples
    every window."""
    return (
        model.cap is None
        and model.n_reps > opts.repair_window_reps
        and model.n_units >= WINDOW_MIN_UNITS_PER_REP * model.n_reps
    )


def rep_links(model: TerritoryModel, sc: Scan) -> sp.csr_matrix:
    """(R, R) symmetric count of the families whose two cheapest reps (adjusted costs at
    the LP prices) are the pair: how much two reps compete for the same families."""
    n = model.n_reps
    if sc.top_rep.shape[1] < 2:
        return sp.csr_matrix((n, n))
    first, second = sc.top_rep[:, 0], sc.top_rep[:, 1]
    link = np.isfinite(sc.top_val[:, 1]) & (first != second)
    graph = sp.coo_matrix((np.ones(int(link.sum())), (first[link], second[link])), shape=(n, n))
    return (graph + graph.T).tocsr()


def rep_windows(model: TerritoryModel, sc: Scan, size: int) -> list[np.ndarray]:
    """The reps in windows of at most ``size``, reps competing for the same families together.

    The :func:`rep_links` graph is cut in halves recursively along its Fiedler vector
    (spectral bisection), so a window's reps can trade families among themselves.
    """
    graph = rep_links(model, sc)
    windows: list[np.ndarray] = []
    pending = [np.arange(model.n_reps)]
    while pending:
        reps = pending.pop()
        if len(reps) <= size:
            windows.append(reps)
            continue
        weights = graph[reps][:, reps].toarray()
        degree = weights.sum(axis=1)
        inv_sqrt = 1.0 / np.sqrt(np.where(degree > 0, degree, 1.0))
        laplacian = (np.diag(degree) - weights) * inv_sqrt[:, None] * inv_sqrt[None, :]
        _, vectors = np.linalg.eigh(laplacian)
        order = np.argsort(vectors[:, 1] * inv_sqrt, kind="stable")
        half = len(reps) // 2
        pending += [reps[order[:half]], reps[order[half:]]]
    return sorted(windows, key=lambda w: int(w.min()))


def merge_crowded_windows(
    model: TerritoryModel, windows: list[np.ndarray], links: sp.csr_matrix, load: np.ndarray
) -> list[np.ndarray]:
    """Merge each window whose total ``load`` leaves too little room inside its band
    (families cannot leave a window) with the window it shares most families with.

    The LP often fills a whole area to the band's edge (compactness pulls there); one
    rounded family can then push the area's total over it, and no repair inside the
    window can help. Room needed: a tenth of the window's band width on both sides.
    """
    windows = [np.asarray(w) for w in windows]
    tau, target = model.tau, model.target

    def crowded(w: np.ndarray) -> bool:
        total, fair = float(load[w].sum()), float(target[w].sum())
        room = 0.1 * tau * fair
        return not ((1 - tau) * fair + room <= total <= (1 + tau) * fair - room)

    while len(windows) > 1:
        bad = next((i for i, w in enumerate(windows) if crowded(w)), None)
        if bad is None:
            break
        rows = links[windows[bad]]
        shared = [float(rows[:, w].sum()) if i != bad else -1.0 for i, w in enumerate(windows)]
        partner = int(np.argmax(shared))
        merged = np.union1d(windows[bad], windows[partner])
        windows = [w for i, w in enumerate(windows) if i not in (bad, partner)] + [merged]
    return sorted(windows, key=lambda w: int(w.min()))


def _windowed_repair(
    model: TerritoryModel, lp: LPState, opts: SolveOptions, penalty: float
) -> tuple[np.ndarray, dict[str, Any]] | None:
    """Round the LP, then repair it window by window (see :func:`rep_windows`).

    Each family stays in the window of the rep it was rounded to, so the windows are
    independent MILPs, each with the band rows of its own reps only. Only windows with
    a rep whose load rounding changed are solved: the others hold the LP's integral
    solution, inside the band. Returns None (the caller runs the single repair MILP)
    when a window cannot meet the band or finds no solution in time.
    """
    free_rep, top = lp.form.unit_reps()
    rep_lp = np.where(lp.fixed >= 0, lp.fixed, free_rep)
    x = np.asarray(lp.form.x.value)
    fractional = np.flatnonzero((lp.fixed < 0) & (top < INTEGRAL))
    sc = lp.scan
    support = (x > 1e-9) & np.isin(lp.cands.unit, fractional)
    touched = np.zeros(model.n_reps, dtype=bool)
    touched[lp.cands.rep[support]] = True
    windows = merge_crowded_windows(
        model,
        rep_windows(model, sc, opts.repair_window_reps),
        rep_links(model, sc),
        model.loads(rep_lp, model.balance),
    )
    windows = [w for w in windows if touched[w].any()]
    window_of = np.full(model.n_reps, -1)
    for i, w in enumerate(windows):
        window_of[w] = i
    regret = np.where(sc.top_rep[:, 0] == rep_lp, sc.margin, 0.0)
    pool = _pool(rep_lp, regret, np.flatnonzero(window_of >= 0), opts.repair_neighbours, fractional)
    movable = np.union1d(fractional, pool)
    movable = movable[window_of[rep_lp[movable]] >= 0]
    abs_gap = opts.mip_gap * abs(lp.bound)
    rep = rep_lp.copy()
    info: dict[str, Any] = {
        "integer_method": "LP rounding + windowed repair MILPs",
        "n_fractional": len(fractional),
        "repair_windows": len(windows),
        "repair_units": 0,
        "repair_columns": 0,
        "repair_window_seconds_max": 0.0,
        "repair_windows_widened": 0,
    }
    for i, reps in enumerate(windows):
        free = movable[window_of[rep_lp[movable]] == i]
        for wide in (False, True):
            if wide:
                # Too few columns or families to meet the band: every rep of the window for
                # three times the families.
                more = _pool(rep_lp, regret, reps, 3 * opts.repair_neighbours, fractional)
                free = np.union1d(free, more)
            sub = _window_columns(model, lp, support, free, reps, window_of == i, wide)
            t0 = time.perf_counter()
            solved = _solve_window(model, lp, opts, penalty, rep, free, sub, reps, abs_gap)
            seconds = time.perf_counter() - t0
            info["repair_window_seconds_max"] = max(info["repair_window_seconds_max"], seconds)
            if solved is not None:
                break
        if solved is None:
            return None
        window_rep, optimal = solved
        rep[free] = window_rep[free]
        info["repair_units"] += len(free)
        info["repair_columns"] += len(sub)
        info["repair_windows_widened"] += int(wide)
        info["time_limit_hit"] = info.get("time_limit_hit", False) or not optimal
    info["integer_status"] = "feasible"
    return rep, info


def _solve_window(
    model: TerritoryModel,
    lp: LPState,
    opts: SolveOptions,
    penalty: float,
    rep: np.ndarray,
    free: np.ndarray,
    sub: Candidates,
    reps: np.ndarray,
    abs_gap: float,
) -> tuple[np.ndarray, bool] | None:
    """One window's MILP (hard band on its reps, soft bands at LP prices): the rep of
    each unit and whether it was proven optimal; None when infeasible or out of time."""
    fixed = rep.copy()
    fixed[free] = -1
    form = model.formulate(
        sub,
        integer=True,
        fixed=Fixed(fixed),
        penalty=penalty,
        soft_prices=lp.prices.soft,
        elastic=False,
        rows=reps,
    )
    try:
        status = form.solve(
            time_limit=opts.repair_time_limit,
            mip_gap=1e-9,
            seed=opts.seed,
            mip_abs_gap=abs_gap * len(reps) / model.n_reps,  # the window's share of the tolerance
        )
    except BalanceSolverError:
        return None
    return form.unit_reps()[0], status == "optimal"


def _window_columns(
    model: TerritoryModel,
    lp: LPState,
    support: np.ndarray,
    free: np.ndarray,
    reps: np.ndarray,
    in_window: np.ndarray,
    wide: bool,
) -> Candidates:
    """Columns of a repair window: each free family on its cheapest reps (at LP prices),
    its LP reps and its rounded rep, kept when in the window; ``wide``: on every rep of it."""
    if wide:
        u, r = np.repeat(free, len(reps)), np.tile(reps, len(free))
    else:
        sc, m = lp.scan, lp.scan.top_rep.shape[1]
        rounded = np.where(lp.fixed >= 0, lp.fixed, lp.form.unit_reps()[0])
        u = np.r_[np.repeat(free, m), lp.cands.unit[support], free]
        r = np.r_[sc.top_rep[free].ravel(), lp.cands.rep[support], rounded[free]]
        keep = np.isin(u, free)
        u, r = u[keep], r[keep]
    ok = in_window[r] & model.eligible(u)[np.arange(len(u)), r]
    return Candidates.build(model, u[ok], r[ok])


def _pool(
    rep_lp: np.ndarray, regret: np.ndarray, touched: np.ndarray, per_rep: int, exclude: np.ndarray
) -> np.ndarray:
    """Up to ``per_rep`` integral units per touched rep with the smallest finite regret."""
    if per_rep <= 0 or len(touched) == 0:
        return np.zeros(0, dtype=np.int64)
    units = np.flatnonzero(np.isin(rep_lp, touched) & np.isfinite(regret))
    units = np.setdiff1d(units, exclude)
    if len(units) == 0:
        return units
    order = np.lexsort((units, regret[units], rep_lp[units]))
    units = units[order]
    reps = rep_lp[units]
    first = np.r_[0, np.flatnonzero(np.diff(reps)) + 1]
    rank = np.arange(len(units)) - np.repeat(first, np.diff(np.r_[first, len(units)]))
    return np.sort(units[rank < per_rep])


def _violations(model: TerritoryModel, ev: Any) -> list[dict[str, Any]]:
    out = []
    for r in np.flatnonzero(ev.band_excess > 0):
        out.append(
            {
                "kind": "band",
                "rep_id": str(model.rep_labels[r]),
                "relative_load": float(ev.relative_load[r]),
                "deviation": float(ev.relative_load[r] - 1.0),
                "excess_beyond_tau": float(ev.band_excess[r]),
            }
        )
    if ev.cap_excess > 1e-9:
        out.append({"kind": "move_cap", "excess_moves": float(ev.cap_excess), "cap": model.cap})
    return out
