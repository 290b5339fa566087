"""The quota allocation as a convex QP in cvxpy.

Only book-carrying reps are decision variables; manager, director and VP
quotas are linear in them (``hierarchy.contribution_matrix``), so every level
sum holds by construction and the constraints that remain are the targets,
the manual adjustments of managers, caps and floors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from plan_lib.errors import SolverError
from plan_lib.quotas.params import SolverParams

_USABLE = (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)
_INFEASIBLE = (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE)
_TIME_LIMIT_OPTION = {"CLARABEL": "time_limit", "OSQP": "time_limit", "SCS": "time_limit_secs"}


@dataclass(frozen=True)
class Allocation:
    """Continuous (unrounded) solution and how it was reached."""

    values: np.ndarray
    status: str
    relaxed: bool
    upper_breach: np.ndarray  # amount above the cap (0 unless relaxed)
    lower_breach: np.ndarray  # amount below the floor / lower cap (0 unless relaxed)
    objective: float  # sum of (q - ideal)^2 / scale, in units of the mean ideal
    seconds: float
    inaccurate: bool


class QuotaModel:
    r"""Quotas closest to the method's ideal under targets, adjustments, caps and floors.

    Variables ``q`` (one per free rep). Money is divided by ``U`` (the mean
    ideal) before solving so the solver sees numbers of order 1::

        minimise    sum_i (q_i - ideal_i)^2 / s_i,      s_i = max(ideal_i, 0.05 mean(ideal))
        subject to  R q  = t        company-level target of each target row (R_ri = 1 / g_i)
                    N q  = a        adjusted manager quotas (N_ni = g_n / g_i)
                    q_i <= u_i      caps on increase        (i in capped)
                    q_i >= l_i      floors, caps on decrease (i in floored)
                    q   >= 0

    Weighting the squared deviation by ``1 / ideal`` makes it a relative one:
    when a cap binds, the rest of the row absorbs the difference in proportion to
    their ideal, so quota / potential stays flat among the unconstrained reps
    (first-order conditions: ``q_i = ideal_i (1 + lambda_row / g_i)``).

    When caps and floors cannot all hold, the relaxed model replaces them by
    ``q_i <= u_i + e_i``, ``q_i >= l_i - f_i`` and adds
    ``rho * sum(e_i + f_i)``: an exact penalty (no breach where none is needed, as
    long as ``rho`` exceeds the constraints' multipliers) that costs the same
    wherever the breach goes, so the smallest total breach is placed where it
    keeps quotas closest to the ideal (``relaxation_spread: potential``). With
    ``relaxation_spread: even`` the model adds ``rho * sum(e_i^2/u_i + f_i^2/l_i)``,
    which spreads the breach evenly in percent of each bound
    (``d/de_i = 2 e_i / u_i`` equal for all ``i``) over the reps concerned.

    Built once per set of ideals with ``cp.Parameter`` targets, adjusted totals,
    caps and floors, so a review dashboard can change a target, an adjusted
    manager's value or a cap and re-solve without rebuilding (``solve`` only
    assigns values). The ideals (and the even-spread weights) are constants:
    cvxpy canonicalises a parameter-times-variable product as a dense tensor,
    which took 3 s at 10,000 reps; a new method or new potentials rebuild the model.
    """

    def __init__(self, ideal: np.ndarray, row_matrix: sp.spmatrix, node_matrix: sp.spmatrix,
                 upper_index: np.ndarray, lower_index: np.ndarray, solver: SolverParams,
                 upper: np.ndarray | None = None, lower: np.ndarray | None = None):
        ideal = np.asarray(ideal, dtype=float)
        n = row_matrix.shape[1]
        self.n = n
        self.solver = solver
        self.upper_index = np.asarray(upper_index, dtype=np.int64)
        self.lower_index = np.asarray(lower_index, dtype=np.int64)
        self.unit = float(ideal.mean()) if n and ideal.mean() > 0 else 1.0
        scaled = ideal / self.unit
        scale = np.maximum(scaled, 0.05 * max(float(scaled.mean()) if n else 1.0, 1e-9))
        weight = 1.0 / np.sqrt(scale)

        self.q = cp.Variable(n, nonneg=True, name="quota")
        self.row_rhs = cp.Parameter(row_matrix.shape[0], name="targets")
        self.node_rhs = cp.Parameter(node_matrix.shape[0], name="adjusted_nodes") if node_matrix.shape[0] else None
        self.upper = cp.Parameter(len(self.upper_index), name="upper") if len(self.upper_index) else None
        self.lower = cp.Parameter(len(self.lower_index), name="lower") if len(self.lower_index) else None
        self._bounds = (upper, lower)

        deviation = cp.sum_squares(cp.multiply(weight, self.q) - weight * scaled)
        equalities = [sp.csr_matrix(row_matrix) @ self.q == self.row_rhs]
        if self.node_rhs is not None:
            equalities.append(sp.csr_matrix(node_matrix) @ self.q == self.node_rhs)
        hard: list[cp.Constraint] = []
        soft: list[cp.Constraint] = []
        penalty: list[cp.Expression] = []
        even = solver.relaxation_spread == "even"
        for param, index, bound, sign, name in ((self.upper, self.upper_index, upper, 1, "cap_breach"),
                                                (self.lower, self.lower_index, lower, -1, "floor_breach")):
            if param is None:
                continue
            breach = cp.Variable(len(index), nonneg=True, name=name)
            hard.append(sign * self.q[index] <= sign * param)
            soft.append(sign * self.q[index] <= sign * param + breach)
            penalty.append(cp.sum(breach))
            if even:
                reference = np.maximum(np.asarray(bound if bound is not None else ideal[index], dtype=float) / self.unit, 1e-6)
                penalty.append(cp.sum_squares(cp.multiply(1.0 / np.sqrt(reference), breach)))
        self.hard = cp.Problem(cp.Minimize(deviation), equalities + hard)
        self.soft = (
            cp.Problem(cp.Minimize(deviation + solver.relaxation_penalty * cp.sum(cp.hstack(penalty))), equalities + soft)
            if penalty else None
        )
        self._deviation = deviation

    def assign(self, row_rhs: np.ndarray, node_rhs: np.ndarray, upper: np.ndarray | None = None,
               lower: np.ndarray | None = None) -> None:
        """Put these values into the parameters (bounds default to those given at build time)."""
        self.row_rhs.value = np.asarray(row_rhs, dtype=float) / self.unit
        if self.node_rhs is not None:
            self.node_rhs.value = np.asarray(node_rhs, dtype=float) / self.unit
        upper = self._bounds[0] if upper is None else upper
        lower = self._bounds[1] if lower is None else lower
        if self.upper is not None:
            self.upper.value = np.asarray(upper, dtype=float) / self.unit
        if self.lower is not None:
            self.lower.value = np.asarray(lower, dtype=float) / self.unit
        self._bounds = (upper, lower)

    def solve(self, row_rhs: np.ndarray, node_rhs: np.ndarray, upper: np.ndarray | None = None,
              lower: np.ndarray | None = None) -> Allocation:
        """Solve with these values (``upper``/``lower`` hold one value per index given at build time)."""
        started = time.perf_counter()
        self.assign(row_rhs, node_rhs, upper, lower)
        upper, lower = self._bounds
        unit = self.unit
        status = self._run(self.hard)
        relaxed = False
        if status in _INFEASIBLE and self.soft is not None:
            status = self._run(self.soft)
            relaxed = True
        if status not in _USABLE:
            what = "even with caps and floors relaxed, " if relaxed or self.soft is None else ""
            if status in _INFEASIBLE:
                raise SolverError(
                    f"quota allocation infeasible ({status}): {what}the targets and the manual adjustments "
                    "cannot all hold; check adjustments that exceed a target or fix a whole team"
                )
            raise SolverError(
                f"quota allocation did not solve (status {status}): raise quotas.solver.time_limit_s "
                "or try quotas.solver.name: CLARABEL"
            )
        values = np.clip(np.asarray(self.q.value, dtype=float), 0.0, None) * unit
        # an interior-point solution sits a hair outside its active bounds (the solver's tolerance
        # scaled by the penalty); snap those onto the bound so that only real breaches remain
        tol = self.solver.binding_tolerance
        upper_breach = np.zeros(self.n)
        lower_breach = np.zeros(self.n)
        if self.upper is not None:
            u = np.asarray(upper, dtype=float)
            at = self.upper_index[values[self.upper_index] <= u * (1 + tol)]
            values[at] = np.minimum(values[at], u[np.searchsorted(self.upper_index, at)])
            upper_breach[self.upper_index] = np.maximum(values[self.upper_index] - u, 0.0)
        if self.lower is not None:
            lo = np.asarray(lower, dtype=float)
            at = self.lower_index[values[self.lower_index] >= lo * (1 - tol)]
            values[at] = np.maximum(values[at], lo[np.searchsorted(self.lower_index, at)])
            lower_breach[self.lower_index] = np.maximum(lo - values[self.lower_index], 0.0)
        return Allocation(
            values=values, status=status, relaxed=relaxed, upper_breach=upper_breach, lower_breach=lower_breach,
            objective=float(self._deviation.value), seconds=time.perf_counter() - started,
            inaccurate=status == cp.OPTIMAL_INACCURATE,
        )

    def _run(self, problem: cp.Problem) -> str:
        options = {_TIME_LIMIT_OPTION[self.solver.name]: self.solver.time_limit_s}
        try:
            problem.solve(solver=self.solver.name, verbose=self.solver.verbose, **options)
        except cp.error.SolverError as error:
            raise SolverError(
                f"the {self.solver.name} solver failed on the quota allocation ({error}): "
                "try quotas.solver.name: CLARABEL, or check for extreme values in potential or targets"
            ) from None
        return problem.status
