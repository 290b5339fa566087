r"""The balancing model of one balance group (a segment, or a segment x region when
accounts may not leave their region): data, cvxpy formulation, checks.

See :class:`TerritoryModel` for the mathematics. Solving strategy (LP, pricing,
integer repair) lives in :mod:`plan_lib.balance.solve`; this module only knows how
to state the problem over a given candidate set and how to evaluate an assignment.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cvxpy as cp
import numpy as np
import pandas as pd
import scipy.sparse as sp

from plan_lib.balance.errors import BalanceInputError, BalanceSolverError
from plan_lib.balance.geometry import PointSet, haversine_block

#: Dense cost matrices up to this many entries are computed once and cached.
COST_CACHE_ENTRIES = 25_000_000
#: Relative excess below which a band counts as met (solver tolerance).
BAND_TOL = 1e-6


@dataclass
class SoftRows:
    """One penalised band per rep: |values . x_r - target_r| <= halfwidth_r + slack_r.

    The slack is measured relative to ``scale_r`` (so 0.05 means 5% of the rep's
    target) and costs ``weight`` per unit in the objective.
    """

    name: str
    values: np.ndarray  # (U,)
    target: np.ndarray  # (R,)
    halfwidth: np.ndarray  # (R,)
    scale: np.ndarray  # (R,) > 0
    weight: float


@dataclass
class GeoCost:
    """Compactness from coordinates: sum over the family's members of weight x km to the rep."""

    members: PointSet  # member accounts, sorted by unit
    member_weight: np.ndarray  # (N,)
    unit_start: np.ndarray  # (U+1,) offsets into members
    reps: PointSet  # (R,)
    coef: float  # compactness weight (km -> objective units)

    def subset(self, units: np.ndarray) -> GeoCost:
        """The members of ``units`` only (in that order)."""
        starts, sizes = self.unit_start[units], np.diff(self.unit_start)[units]
        idx = np.repeat(starts - np.cumsum(np.r_[0, sizes[:-1]]), sizes) + np.arange(sizes.sum())
        return GeoCost(
            self.members.take(idx),
            self.member_weight[idx],
            np.r_[0, np.cumsum(sizes)],
            self.reps,
            self.coef,
        )

    def rows(self, units: np.ndarray) -> np.ndarray:
        starts, ends = self.unit_start[units], self.unit_start[units + 1]
        sizes = ends - starts
        if len(units) and np.all(sizes == 1):
            idx = starts
            d = haversine_block(self.members.take(idx), self.reps)
            np.nan_to_num(d, copy=False, nan=0.0)
            return d * (self.coef * self.member_weight[idx])[:, None]
        idx = np.repeat(starts - np.cumsum(np.r_[0, sizes[:-1]]), sizes) + np.arange(sizes.sum())
        d = haversine_block(self.members.take(idx), self.reps)
        np.nan_to_num(d, copy=False, nan=0.0)
        d *= (self.coef * self.member_weight[idx])[:, None]
        out = np.zeros((len(units), d.shape[1]))
        nonempty = sizes > 0
        if nonempty.any():
            offsets = np.r_[0, np.cumsum(sizes)[:-1]][nonempty]
            out[nonempty] = np.add.reduceat(d, offsets, axis=0)
        return out


@dataclass
class Candidates:
    """The (unit, rep) pairs that get a variable, sorted by unit then rep."""

    unit: np.ndarray
    rep: np.ndarray
    cost: np.ndarray

    def __len__(self) -> int:
        return len(self.unit)

    @classmethod
    def build(cls, model: TerritoryModel, unit: np.ndarray, rep: np.ndarray) -> Candidates:
        key = np.unique(unit.astype(np.int64) * model.n_reps + rep.astype(np.int64))
        u, r = key // model.n_reps, key % model.n_reps
        return cls(u, r, model.pair_costs(u, r))

    def union(self, model: TerritoryModel, unit: np.ndarray, rep: np.ndarray) -> Candidates:
        return Candidates.build(model, np.r_[self.unit, unit], np.r_[self.rep, rep])


@dataclass
class Fixed:
    """Units held fixed (not variables) in a repair MILP, with their contribution per rep."""

    rep_of_unit: np.ndarray  # (U,) rep index or -1 for free units


@dataclass
class Evaluation:
    """An integral assignment measured against the model (no solver involved)."""

    objective: float
    cost: float
    soft_penalty: float
    hard_penalty: float
    band_excess: np.ndarray  # (R,) relative excess beyond the hard band (0 = inside)
    relative_load: np.ndarray  # (R,) load / target
    cap_excess: float
    ineligible: int  # units on a rep they may not have


@dataclass
class TerritoryModel:
    r"""Assign account families (units) to reps so that books are balanced, compact and stable.

    Sets and data
        :math:`U` units (an account family moves as one unit), :math:`R` reps carrying a book
        in this balance group, :math:`E(u) \subseteq R` the reps eligible for unit *u* (rules and
        locks; a locked unit has one eligible rep), :math:`C \subseteq \{(u,r): r \in E(u)\}` the
        candidate pairs that get a variable.
        :math:`b_u` the balanced metric (potential), :math:`T_r = f_r \sum_u b_u / \sum_r f_r`
        the fair share of rep *r* with FTE :math:`f_r`, :math:`\tau` the hard band.
        :math:`c_{ur}` = compactness (weighted km, or a supplied cost) + continuity
        (:math:`\kappa\,\sum_{j \in u,\ \mathrm{owner}_j \ne r} m_j`).
        Soft bands *k*: values :math:`a_{ku}`, targets :math:`T_{kr}`, half-widths :math:`h_{kr}`,
        scales :math:`\sigma_{kr}`, weights :math:`\lambda_k`.
        Move cap: :math:`g_{ur}` = members of *u* whose owner still carries a book and is not *r*;
        :math:`Q` the cap.

    Problem
        .. math::

            \min_{x,s}\ & \sum_{(u,r)\in C} c_{ur} x_{ur}
                + \sum_k \lambda_k \sum_r (s^+_{kr} + s^-_{kr})
                + M \sum_r (s^+_r + s^-_r) + M s_Q \\
            \text{s.t. }\ & \sum_{r:(u,r)\in C} x_{ur} = 1 \quad \forall u \\
            & (1-\tau) - s^-_r \le \textstyle\sum_u b_u x_{ur} / T_r \le (1+\tau) + s^+_r \quad \forall r \\
            & (T_{kr} - h_{kr})/\sigma_{kr} - s^-_{kr} \le \textstyle\sum_u a_{ku} x_{ur}/\sigma_{kr}
                \le (T_{kr} + h_{kr})/\sigma_{kr} + s^+_{kr} \\
            & \textstyle\sum g_{ur} x_{ur} \le Q + s_Q, \qquad
              x_{ur} \in \{0, 1\}\ (\text{LP: } [0, 1]), \quad s \ge 0

    The hard band and the move cap are *elastic* with a penalty :math:`M` far above any
    dual price: when the settings are feasible the slacks are zero and the optimum is
    the hard-constrained one; when they are not, the same solve is the soft fallback
    and the slacks are the reported violations. (It also keeps HiGHS away from
    infeasible LPs, whose dual-ray extraction through cvxpy costs minutes at scale.)

    Lower bound
        For band duals :math:`\lambda \ge 0` (capped at the slack penalties),
        :math:`L(\lambda) = \sum_u \min_{r \in E(u)} \hat c_{ur} - \lambda^\top h` with
        :math:`\hat c = c + G^\top\lambda` is a lower bound of the *full* problem (all
        eligible pairs, not only the candidates): it is the certificate reported as the
        LP bound, and pricing (:mod:`plan_lib.balance.candidates`) adds the columns with
        negative reduced cost until it meets the LP value.
    """

    name: str
    unit_labels: np.ndarray  # (U,) str
    rep_labels: np.ndarray  # (R,) str
    balance: np.ndarray  # (U,) b_u
    target: np.ndarray  # (R,) T_r
    tau: float
    class_of_unit: np.ndarray  # (U,) int
    class_mask: np.ndarray  # (C, R) bool
    dense_cost: np.ndarray | None = None  # (U, R) compactness part, or None
    geo_cost: GeoCost | None = None
    move_weight: np.ndarray | None = None  # (U,) continuity cost if the unit moves entirely
    keep_weight: sp.csr_matrix | None = None  # (U, R) continuity saved on rep r
    soft: list[SoftRows] = field(default_factory=list)
    cap: float | None = None
    cap_base: np.ndarray | None = None  # (U,) members with a book-carrying owner
    cap_keep: sp.csr_matrix | None = None  # (U, R) of those, members owned by r
    hard_penalty: float | None = None
    n_members: np.ndarray | None = None  # (U,) accounts per unit
    segment: str = ""
    _cost_cache: np.ndarray | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_cost_matrix(
        cls,
        cost: np.ndarray | pd.DataFrame,
        balance: Sequence[float] | np.ndarray,
        *,
        tau: float | None = None,
        band: tuple[float, float] | None = None,
        fte: Sequence[float] | np.ndarray | None = None,
        current: Sequence[int] | np.ndarray | None = None,
        cost_weight: float = 1.0,
        disruption_weight: float = 0.0,
        disruption: Sequence[float] | np.ndarray | None = None,
        allowed: np.ndarray | None = None,
        name: str = "model",
    ) -> TerritoryModel:
        """A model straight from a units x reps cost matrix (drive times, distances...).

        ``balance`` is the metric the hard band applies to (e.g. workload). Give either
        ``tau`` (band = fair share x (1 +/- tau)) or ``band=(lo, hi)`` in the metric's own
        units for a rep of 1 FTE. ``current`` holds each unit's current rep index (-1 for
        none); the objective is ``cost_weight x cost + disruption_weight x disruption of the
        units that change rep`` (``disruption`` defaults to ``balance``): ``cost_weight=1,
        disruption_weight=0`` minimises total cost, ``0, 1`` minimises disruption.
        """
        labels_u = labels_r = None
        if isinstance(cost, pd.DataFrame):
            labels_u, labels_r = (
                cost.index.astype(str).to_numpy(),
                cost.columns.astype(str).to_numpy(),
            )
            cost = cost.to_numpy(dtype=float)
        cost = np.asarray(cost, dtype=float)
        n_u, n_r = cost.shape
        b = np.asarray(balance, dtype=float)
        if b.shape != (n_u,):
            raise BalanceInputError(
                "cost matrix", f"balance has {b.shape[0]} values for {n_u} rows of the cost matrix"
            )
        f = np.ones(n_r) if fte is None else np.asarray(fte, dtype=float)
        share = f * b.sum() / f.sum()
        if band is not None:
            lo, hi = band
            if not 0 <= lo <= hi:
                raise BalanceInputError("cost matrix", f"band {band} must satisfy 0 <= lo <= hi")
            target, tau_value = f * (lo + hi) / 2.0, (hi - lo) / (hi + lo) if hi > 0 else 0.0
        else:
            target, tau_value = share, 0.03 if tau is None else float(tau)
        ok = (
            np.isfinite(cost)
            if allowed is None
            else (np.asarray(allowed, dtype=bool) & np.isfinite(cost))
        )
        if not ok.any(axis=1).all():
            bad = np.flatnonzero(~ok.any(axis=1))
            raise BalanceInputError("cost matrix", f"rows {bad.tolist()} have no allowed rep")
        class_mask, class_of_unit = np.unique(ok, axis=0, return_inverse=True)
        cur = np.full(n_u, -1) if current is None else np.asarray(current, dtype=int)
        move_weight = keep = None
        if disruption_weight:
            dis = b if disruption is None else np.asarray(disruption, dtype=float)
            move_weight = disruption_weight * dis
            has = cur >= 0
            keep = sp.csr_matrix(
                (move_weight[has], (np.flatnonzero(has), cur[has])), shape=(n_u, n_r)
            )
        return cls(
            name=name,
            unit_labels=labels_u if labels_u is not None else np.arange(n_u).astype(str),
            rep_labels=labels_r if labels_r is not None else np.arange(n_r).astype(str),
            balance=b,
            target=target,
            tau=tau_value,
            class_of_unit=class_of_unit.ravel(),
            class_mask=class_mask,
            dense_cost=np.where(ok, cost_weight * np.nan_to_num(cost, posinf=0.0), 0.0),
            move_weight=move_weight,
            keep_weight=keep,
            n_members=np.ones(n_u, dtype=int),
        )

    @classmethod
    def from_frames(
        cls,
        accounts: pd.DataFrame,
        reps: pd.DataFrame,
        params: Any = None,
        locks: pd.DataFrame | None = None,
        cost: pd.DataFrame | None = None,
    ) -> TerritoryModel:
        """The model of a single balance group from contract-shaped frames.

        Use :func:`plan_lib.balance.balance_books` for a whole plan; this is for
        notebooks and dashboards that work on one segment (and may re-solve it with
        another tau via :meth:`Formulation.set_tau`).
        """
        from plan_lib.balance.params import BalanceParams
        from plan_lib.balance.prepare import prepare

        prepared = prepare(accounts, reps, params or BalanceParams(), locks, cost)
        if len(prepared.models) != 1:
            names = [m.name for m in prepared.models]
            raise BalanceInputError(
                "accounts",
                f"the frames hold {len(names)} balance groups ({', '.join(names)})",
                fix="filter them to one segment, or call balance_books for the whole plan",
            )
        return prepared.models[0]

    # ------------------------------------------------------------------ sizes and costs
    @property
    def n_units(self) -> int:
        return len(self.balance)

    @property
    def n_reps(self) -> int:
        return len(self.target)

    @property
    def has_band(self) -> bool:
        return bool(self.target.sum() > 0)

    def eligible(self, units: np.ndarray) -> np.ndarray:
        """(len(units), R) boolean eligibility."""
        return self.class_mask[self.class_of_unit[units]]

    def n_eligible_pairs(self) -> int:
        return int(
            np.bincount(self.class_of_unit, minlength=len(self.class_mask))
            @ self.class_mask.sum(axis=1)
        )

    def full_cost(self) -> np.ndarray | None:
        """The whole (U, R) cost matrix when it is small enough to keep (cached), else None."""
        if self._cost_cache is None and self.n_units * self.n_reps <= COST_CACHE_ENTRIES:
            self._cost_cache = self._compute_cost_rows(np.arange(self.n_units))
        return self._cost_cache

    def cost_rows(self, units: np.ndarray) -> np.ndarray:
        """Objective cost c[u, r] for all reps (inf where not eligible)."""
        units = np.asarray(units, dtype=np.int64)
        full = self.full_cost()
        return full[units] if full is not None else self._compute_cost_rows(units)

    def _compute_cost_rows(self, units: np.ndarray) -> np.ndarray:
        if self.dense_cost is not None:
            c = self.dense_cost[units].astype(float, copy=True)
        elif self.geo_cost is not None:
            c = self.geo_cost.rows(units)
        else:
            c = np.zeros((len(units), self.n_reps))
        if self.move_weight is not None and self.keep_weight is not None:
            c += self.move_weight[units][:, None]
            c -= self.keep_weight[units].toarray()
        c[~self.eligible(units)] = np.inf
        return c

    def pair_costs(self, unit: np.ndarray, rep: np.ndarray) -> np.ndarray:
        """c[u, r] for given pairs, ``unit`` sorted ascending (computed by unit blocks)."""
        unit = np.asarray(unit, dtype=np.int64)
        rep = np.asarray(rep, dtype=np.int64)
        full = self.full_cost()
        if full is not None:
            return full[unit, rep]
        out = np.empty(len(unit))
        uniq = np.unique(unit)
        for _, _, units in self.unit_blocks(uniq):
            lo, hi = np.searchsorted(unit, [units[0], units[-1] + 1])
            rows = self.cost_rows(units)
            out[lo:hi] = rows[np.searchsorted(units, unit[lo:hi]), rep[lo:hi]]
        return out

    def unit_blocks(self, units: np.ndarray | None = None, entries: int = 2_000_000):
        """Yield (start, stop, units) blocks of sorted units with about ``entries`` cost entries each."""
        units = np.arange(self.n_units) if units is None else units
        step = max(1, entries // max(self.n_reps, 1))
        for start in range(0, len(units), step):
            yield start, min(start + step, len(units)), units[start : start + step]

    def gap_coefficients(self, units: np.ndarray) -> np.ndarray:
        """Move-cap coefficients g[u, r] for all reps."""
        assert self.cap_base is not None and self.cap_keep is not None
        return self.cap_base[units][:, None] - self.cap_keep[units].toarray()

    def penalty(self, cands: Candidates) -> float:
        """The elastic penalty M per unit of relative band excess: far above any dual price.

        A band dual is the cost of shifting a whole fair share of load, i.e. moving about
        U/R families by about the mean candidate cost each; M is 1,000 times that.
        """
        if self.hard_penalty is not None:
            return self.hard_penalty
        finite = np.abs(cands.cost[np.isfinite(cands.cost)])
        mean = float(finite.mean()) if len(finite) and finite.mean() > 0 else 1.0
        return 1e3 * mean * max(1.0, self.n_units / max(self.n_reps, 1))

    # ------------------------------------------------------------------ formulation
    def formulate(
        self,
        cands: Candidates,
        *,
        integer: bool = False,
        fixed: Fixed | None = None,
        penalty: float | None = None,
        soft_prices: list[np.ndarray] | None = None,
        elastic: bool = True,
        rows: np.ndarray | None = None,
    ) -> Formulation:
        """The cvxpy problem over ``cands`` (units held in ``fixed`` contribute constants).

        ``soft_prices`` (one per-rep price vector per soft band) replace the soft rows by
        their Lagrangian prices: a repair MILP moves few families, for which the LP's
        marginal prices are the right costs, and without the soft rows (and their slack
        columns) HiGHS's branch and bound is an order of magnitude faster.

        ``rows`` (rep indices) keeps the per-rep rows of those reps only: a repair
        window moves families among its own reps, and the other reps' loads (not
        repaired yet, possibly out of band) must not constrain it.
        """
        return Formulation(
            self,
            cands,
            integer=integer,
            fixed=fixed,
            penalty=penalty,
            soft_prices=soft_prices,
            elastic=elastic,
            rows=rows,
        )

    def subsample(self, units: np.ndarray) -> TerritoryModel:
        """The same group with only ``units``: targets, soft bands, move cap and penalty
        weights shrink with the sample, so its band prices (per unit of metric) estimate
        the full group's. Used to find first prices for large groups cheaply.
        """
        units = np.sort(np.asarray(units, dtype=np.int64))
        share = len(units) / max(self.n_units, 1)
        b_share = (
            self.balance[units].sum() / self.balance.sum() if self.balance.sum() > 0 else share
        )
        soft = []
        for rows in self.soft:
            total = np.abs(rows.values).sum()
            k = np.abs(rows.values[units]).sum() / total if total > 0 else 0.0
            k = k if k > 0 else share
            soft.append(
                SoftRows(
                    rows.name,
                    rows.values[units],
                    rows.target * k,
                    rows.halfwidth * k,
                    rows.scale * k,
                    rows.weight * share,
                )
            )
        return TerritoryModel(
            name=f"{self.name} (sample)",
            unit_labels=self.unit_labels[units],
            rep_labels=self.rep_labels,
            balance=self.balance[units],
            target=self.target * b_share,
            tau=self.tau,
            class_of_unit=self.class_of_unit[units],
            class_mask=self.class_mask,
            dense_cost=self.dense_cost[units] if self.dense_cost is not None else None,
            geo_cost=self.geo_cost.subset(units) if self.geo_cost is not None else None,
            move_weight=self.move_weight[units] if self.move_weight is not None else None,
            keep_weight=self.keep_weight[units] if self.keep_weight is not None else None,
            soft=soft,
            cap=self.cap * share if self.cap is not None else None,
            cap_base=self.cap_base[units] if self.cap_base is not None else None,
            cap_keep=self.cap_keep[units] if self.cap_keep is not None else None,
            n_members=self.n_members[units] if self.n_members is not None else None,
            segment=self.segment,
        )

    def all_pairs(self) -> Candidates:
        ok = self.class_mask[self.class_of_unit]
        u, r = np.nonzero(ok)
        return Candidates.build(self, u, r)

    # ------------------------------------------------------------------ evaluation
    def loads(self, rep_of_unit: np.ndarray, values: np.ndarray) -> np.ndarray:
        has = rep_of_unit >= 0
        return np.bincount(rep_of_unit[has], weights=values[has], minlength=self.n_reps)

    def evaluate(self, rep_of_unit: np.ndarray, penalty: float | None = None) -> Evaluation:
        """Objective and violations of an integral assignment, computed directly."""
        rep_of_unit = np.asarray(rep_of_unit, dtype=np.int64)
        units = np.arange(self.n_units)
        cost = 0.0
        ineligible = 0
        for _, _, block in self.unit_blocks():
            rows = self.cost_rows(block)
            c = rows[np.arange(len(block)), rep_of_unit[block]]
            ineligible += int(np.isinf(c).sum())
            cost += float(c[np.isfinite(c)].sum())
        m = (
            penalty
            if penalty is not None
            else self.penalty(Candidates(units, rep_of_unit, np.zeros(0)))
        )
        rel = np.ones(self.n_reps)
        excess = np.zeros(self.n_reps)
        if self.has_band:
            rel = self.loads(rep_of_unit, self.balance) / self.target
            excess = np.maximum(np.abs(rel - 1.0) - self.tau, 0.0)
            excess[excess < BAND_TOL] = 0.0
        soft_pen = 0.0
        for band in self.soft:
            load = self.loads(rep_of_unit, band.values)
            over = np.maximum(np.abs(load - band.target) - band.halfwidth, 0.0) / band.scale
            soft_pen += band.weight * float(over.sum())
        cap_excess = 0.0
        if self.cap is not None:
            assert self.cap_base is not None and self.cap_keep is not None
            g = self.cap_base[units] - np.asarray(self.cap_keep[units, rep_of_unit]).ravel()
            cap_excess = max(0.0, float(g.sum()) - self.cap)
        hard_pen = m * (float(excess.sum()) + cap_excess)
        return Evaluation(
            objective=cost + soft_pen + hard_pen,
            cost=cost,
            soft_penalty=soft_pen,
            hard_penalty=hard_pen,
            band_excess=excess,
            relative_load=rel,
            cap_excess=cap_excess,
            ineligible=ineligible,
        )

    def check_assignment(self, rep_of_unit: Sequence[int] | np.ndarray) -> dict[str, float]:
        """Largest violation of each hard constraint at an integral point, evaluated by cvxpy
        on the very constraints the solver receives (slacks held at zero). No solve.
        """
        rep_of_unit = np.asarray(rep_of_unit, dtype=np.int64)
        cands = self.all_pairs()
        pair = np.r_[cands.unit] * self.n_reps + cands.rep
        chosen = np.arange(self.n_units) * self.n_reps + rep_of_unit
        value = np.isin(pair, chosen).astype(float)
        form = self.formulate(cands)
        form.x.value = value
        for s in form.slacks:
            s.value = np.zeros(s.shape)
        out = {
            name: float(np.max(c.violation(), initial=0.0))
            for name, c in form.hard_constraints.items()
        }
        out["eligibility"] = float(len(np.setdiff1d(chosen, pair)))
        return out


class Formulation:
    """A cvxpy problem over a candidate set.

    - tau is a ``cp.Parameter``: a re-solve with another band reuses the compiled
      problem (a dashboard moving the tau slider).
    - The objective is divided by ``scale`` (mean candidate cost) so that HiGHS sees
      costs near 1 and a penalty M near 1e3 x families per rep, instead of ranges of
      1e10 that make it warn about scaling and slow down; values and duals are
      reported back in model units.
    - ``elastic=False`` drops the slack of the hard band and of the move cap: a repair
      MILP of an LP-feasible band prunes far better without them (and an infeasible
      small MILP is detected in milliseconds).
    """

    def __init__(
        self,
        model: TerritoryModel,
        cands: Candidates,
        *,
        integer: bool,
        fixed: Fixed | None,
        penalty: float | None,
        soft_prices: list[np.ndarray] | None = None,
        elastic: bool = True,
        rows: np.ndarray | None = None,
    ):
        self.model, self.cands, self.integer, self.elastic = model, cands, integer, elastic
        n_e, n_r = len(cands), model.n_reps
        if rows is not None and not integer:
            raise ValueError("rows restricts a repair MILP; an LP needs every rep's rows for its duals")
        keep = np.arange(n_r) if rows is None else np.asarray(rows)
        self.rows = keep
        n_rows = len(keep)
        fixed_rep = fixed.rep_of_unit if fixed is not None else np.full(model.n_units, -1)
        self.fixed_rep = fixed_rep
        free_units, local = np.unique(cands.unit, return_inverse=True)
        self.free_units = free_units
        self.M = penalty if penalty is not None else model.penalty(cands)
        finite = np.abs(cands.cost[np.isfinite(cands.cost)])
        self.scale = float(finite.mean()) if len(finite) and finite.mean() > 0 else 1.0
        inv = 1.0 / self.scale
        cols = np.arange(n_e)
        x = cp.Variable(n_e, boolean=True) if integer else cp.Variable(n_e, bounds=[0, 1])
        self.x = x
        self.slacks: list[cp.Variable] = []
        self.hard_constraints: dict[str, cp.Constraint] = {}
        cost = cands.cost
        if soft_prices is not None:
            cost = cost.copy()
            for rows, pi in zip(model.soft, soft_prices, strict=True):
                cost += rows.values[cands.unit] * pi[cands.rep]
        self.cost = cost
        objective = (cost * inv) @ x
        constraints: list[cp.Constraint] = []
        assign = sp.csr_matrix((np.ones(n_e), (local, cols)), shape=(len(free_units), n_e))
        self.assign = assign @ x == 1
        constraints.append(self.assign)
        self.hard_constraints["assignment"] = self.assign

        def rep_matrix(values_u: np.ndarray, scale_r: np.ndarray) -> sp.csr_matrix:
            data = values_u[cands.unit] / scale_r[cands.rep]
            return sp.csr_matrix((data, (cands.rep, cols)), shape=(n_r, n_e))[keep]

        def fixed_load(values_u: np.ndarray) -> np.ndarray:
            return model.loads(fixed_rep, values_u)[keep]

        def slack(size: int) -> cp.Variable | None:
            if not elastic:
                return None
            var = cp.Variable(size, bounds=[0, None])
            self.slacks.append(var)
            return var

        self.band_hi = self.band_lo = self.s_hi = self.s_lo = self.s_cap = None
        self.tau = cp.Parameter(nonneg=True, value=model.tau)
        if model.has_band:
            scale = model.target
            offset = fixed_load(model.balance) / scale[keep]
            B = rep_matrix(model.balance, scale)
            self.s_hi, self.s_lo = slack(n_rows), slack(n_rows)
            # G x <= h form throughout, so every dual is a nonnegative price.
            upper, lower = B @ x, -(B @ x)
            if elastic:
                upper, lower = upper - self.s_hi, lower - self.s_lo
                objective = objective + (self.M * inv) * cp.sum(self.s_hi + self.s_lo)
            self.band_hi = upper <= 1 + self.tau - offset
            self.band_lo = lower <= -(1 - self.tau) + offset
            constraints += [self.band_hi, self.band_lo]
            self.hard_constraints["band_upper"] = self.band_hi
            self.hard_constraints["band_lower"] = self.band_lo

        self.soft_rows: list[tuple[SoftRows, cp.Constraint, cp.Constraint]] = []
        for band in model.soft if soft_prices is None else []:
            S = rep_matrix(band.values, band.scale)
            off = fixed_load(band.values) / band.scale[keep]
            sp_hi = cp.Variable(n_rows, bounds=[0, None])
            sp_lo = cp.Variable(n_rows, bounds=[0, None])
            self.slacks += [sp_hi, sp_lo]
            upper = (band.target + band.halfwidth)[keep] / band.scale[keep]
            lower = (band.target - band.halfwidth)[keep] / band.scale[keep]
            hi = S @ x - sp_hi <= upper - off
            lo = -(S @ x) - sp_lo <= -lower + off
            constraints += [hi, lo]
            self.soft_rows.append((band, hi, lo))
            objective = objective + (band.weight * inv) * cp.sum(sp_hi + sp_lo)

        self.cap_row = None
        if model.cap is not None:
            assert model.cap_base is not None and model.cap_keep is not None
            g = (
                model.cap_base[cands.unit]
                - np.asarray(model.cap_keep[cands.unit, cands.rep]).ravel()
            )
            fixed_units = np.flatnonzero(fixed_rep >= 0)
            used = 0.0
            if len(fixed_units):
                kept = np.asarray(model.cap_keep[fixed_units, fixed_rep[fixed_units]]).ravel()
                used = float((model.cap_base[fixed_units] - kept).sum())
            moves = g @ x
            self.s_cap = slack(1)
            if elastic:
                moves = moves - self.s_cap
                objective = objective + (self.M * inv) * cp.sum(self.s_cap)
            self.cap_row = moves <= model.cap - used
            constraints.append(self.cap_row)
            self.hard_constraints["move_cap"] = self.cap_row

        self.problem = cp.Problem(cp.Minimize(objective), constraints)

    def set_tau(self, tau: float) -> None:
        """Change the hard band without rebuilding the problem."""
        self.tau.value = float(tau)

    def solve(
        self, *, time_limit: float, mip_gap: float, seed: int, mip_abs_gap: float | None = None
    ) -> str:
        """Solve with HiGHS; returns the cvxpy status. Raises on statuses without a solution.

        ``mip_abs_gap`` (model units) lets a repair MILP stop once it is within an absolute
        distance of its bound: the repair is a piece of a larger objective, so a relative
        gap on the piece alone would ask for far more precision than the whole needs.
        """
        opts: dict[str, Any] = {
            "time_limit": float(time_limit),
            "random_seed": int(seed),
            "threads": 1,
        }
        if self.integer:
            opts["mip_rel_gap"] = float(mip_gap)
            if mip_abs_gap is not None:
                opts["mip_abs_gap"] = float(mip_abs_gap) / self.scale
        try:
            with warnings.catch_warnings():
                # cvxpy warns "Solution may be inaccurate" on time limits; the status is checked below.
                warnings.simplefilter("ignore", UserWarning)
                self.problem.solve(solver=cp.HIGHS, verbose=False, **opts)
        except cp.error.SolverError as exc:
            raise BalanceSolverError(
                self.model.name, self.stage, "solver error", f"HiGHS failed: {exc}"
            ) from exc
        status = self.problem.status
        if status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            return status
        if status == cp.USER_LIMIT and self.has_solution():
            return status
        if status == cp.INFEASIBLE and not self.elastic:
            raise BalanceSolverError(
                self.model.name, self.stage, status, "Infeasible without slack."
            )
        fix = (
            "Raise balance.time_limit, or shrink the subproblem (eligibility.region splits each "
            "segment by region)."
            if status == cp.USER_LIMIT
            else "The elastic formulation cannot be infeasible or unbounded; please report this with the inputs."
        )
        raise BalanceSolverError(self.model.name, self.stage, str(status), fix)

    @property
    def stage(self) -> str:
        return "integer repair (MILP)" if self.integer else "LP relaxation"

    def has_solution(self) -> bool:
        value = self.x.value
        if value is None or not np.all(np.isfinite(value)):
            return False
        info = self.problem.solver_stats.extra_stats if self.problem.solver_stats else None
        status = getattr(info, "primal_solution_status", 2)
        return int(status) == 2

    @property
    def value(self) -> float:
        """Objective in model units (fixed families excluded)."""
        return float(self.problem.value) * self.scale

    def mip_bound(self) -> float | None:
        info = self.problem.solver_stats.extra_stats if self.problem.solver_stats else None
        bound = getattr(info, "mip_dual_bound", None)
        return float(bound) * self.scale if bound is not None and np.isfinite(bound) else None

    def hard_slack(self) -> float:
        total = 0.0
        for var in (self.s_hi, self.s_lo, self.s_cap):
            if var is not None and var.value is not None:
                total += float(np.sum(var.value))
        return total

    def duals(self) -> Duals:
        """Row prices in model units (>= 0, capped at the slack penalties) for pricing and the bound."""
        n_r = self.model.n_reps

        def get(con: cp.Constraint | None, cap: float, size: int) -> np.ndarray:
            if con is None or con.dual_value is None:
                return np.zeros(size)
            return np.clip(
                np.asarray(con.dual_value, dtype=float).reshape(size) * self.scale, 0.0, cap
            )

        soft = [(get(hi, r.weight, n_r), get(lo, r.weight, n_r)) for r, hi, lo in self.soft_rows]
        return Duals(
            hard_hi=get(self.band_hi, self.M, n_r),
            hard_lo=get(self.band_lo, self.M, n_r),
            soft=soft,
            cap=float(get(self.cap_row, self.M, 1)[0]),
            tau=float(self.tau.value or 0.0),
        )

    def unit_reps(self) -> tuple[np.ndarray, np.ndarray]:
        """(rep of each free unit by largest x, that largest x); -1 / 0 for units not free."""
        x = np.asarray(self.x.value, dtype=float)
        order = np.lexsort((-x, self.cands.unit))
        first = np.r_[True, np.diff(self.cands.unit[order]) != 0]
        best = order[first]
        rep = np.full(self.model.n_units, -1)
        top = np.zeros(self.model.n_units)
        rep[self.cands.unit[best]] = self.cands.rep[best]
        top[self.cands.unit[best]] = x[best]
        return rep, top


@dataclass
class Duals:
    hard_hi: np.ndarray
    hard_lo: np.ndarray
    soft: list[tuple[np.ndarray, np.ndarray]]
    cap: float
    tau: float
