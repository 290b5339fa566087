"""The cvxpy model on its own: constraints on hand-made points, objective values, solutions, relaxation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from plan_lib.errors import SolverError
from plan_lib.quotas.allocate import QuotaModel
from plan_lib.quotas.params import SolverParams

# two target rows of three reps each; every rep is 1.1 deep (one over-assignment factor)
ROWS = sp.csr_matrix(np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=float) / 1.1)
NO_NODES = sp.csr_matrix((0, 6))
IDEAL = np.array([0.5, 1.0, 1.5, 1.0, 1.0, 1.0]) * 1.1  # mean 1.1: the model's unit
TARGETS = np.array([3.0, 3.0])


def model(upper_index=(), lower_index=(), nodes=NO_NODES, solver=None, upper=None) -> QuotaModel:
    return QuotaModel(IDEAL, ROWS, nodes, np.array(upper_index, dtype=int), np.array(lower_index, dtype=int),
                      solver or SolverParams(), upper=upper)


def violations(m: QuotaModel, point: np.ndarray, unit: float) -> list[float]:
    m.q.value = point / unit
    return [float(np.max(np.atleast_1d(c.violation()))) for c in m.hard.constraints]


def test_constraints_hold_on_a_feasible_point_and_fail_on_an_infeasible_one():
    m = model(upper_index=[0], lower_index=[5])
    m.assign(TARGETS, np.zeros(0), np.array([0.6]), np.array([1.0]))
    unit = m.unit
    assert max(violations(m, IDEAL, unit)) == pytest.approx(0.0, abs=1e-12)
    over_cap = IDEAL.copy()
    over_cap[0], over_cap[1] = 0.7, 1.1 * 1.0 - 0.15  # same row total, rep 0 above its cap of 0.6
    assert violations(m, over_cap, unit)[1] > 0.05
    wrong_total = IDEAL * 1.01
    assert violations(m, wrong_total, unit)[0] > 0


def test_objective_is_the_relative_squared_deviation():
    m = model()
    m.assign(TARGETS, np.zeros(0))
    unit = m.unit
    point = IDEAL.copy()
    point[1] += 0.11
    point[2] -= 0.11
    m.q.value = point / unit
    expected = (0.11 / unit) ** 2 / (IDEAL[1] / unit) + (0.11 / unit) ** 2 / (IDEAL[2] / unit)
    assert m.hard.objective.value == pytest.approx(expected, rel=1e-9)


def test_without_binding_bounds_the_solution_is_the_ideal():
    out = model().solve(TARGETS, np.zeros(0))
    assert out.status == "optimal" and not out.relaxed
    assert out.values == pytest.approx(IDEAL, rel=1e-6)


def test_a_binding_cap_is_absorbed_in_proportion_to_the_ideals():
    out = model(upper_index=[2]).solve(TARGETS, np.zeros(0), np.array([1.2]))
    assert out.values[2] == pytest.approx(1.2, rel=1e-6)
    assert out.values[:3].sum() / 1.1 == pytest.approx(3.0, rel=1e-8)
    ratio = out.values[:2] / IDEAL[:2]
    assert ratio[0] == pytest.approx(ratio[1], rel=1e-6)  # quota / ideal flat among the free reps
    assert out.values[3:] == pytest.approx(IDEAL[3:], rel=1e-6)  # the other row is untouched


def test_caps_that_cannot_hold_give_the_smallest_breach_closest_to_the_ideal():
    caps = np.array([0.6, 1.0, 1.2])  # the row needs 3.3 at rep level, caps allow 2.8
    out = model(upper_index=[0, 1, 2]).solve(TARGETS, np.zeros(0), caps)
    assert out.relaxed
    assert out.values[:3].sum() / 1.1 == pytest.approx(3.0, rel=1e-7)
    assert out.upper_breach[:3].sum() == pytest.approx(0.5, rel=1e-5)  # no more than needed
    # rep 0 (ideal 0.55) stays at its cap; reps 1 and 2 share the rest in proportion to their ideal
    assert out.values[:3] == pytest.approx([0.6, 1.1 * 2.7 / 2.75, 1.65 * 2.7 / 2.75], rel=1e-4)
    assert out.upper_breach[0] == pytest.approx(0.0, abs=1e-6)
    assert np.all(out.upper_breach[3:] == 0)


def test_even_relaxation_spreads_the_breach_in_percent_of_each_cap():
    caps = np.array([0.6, 1.0, 1.2])
    m = model(upper_index=[0, 1, 2], solver=SolverParams(relaxation_spread="even"), upper=caps)
    out = m.solve(TARGETS, np.zeros(0))
    assert out.relaxed
    assert out.upper_breach[:3].sum() == pytest.approx(0.5, rel=1e-4)
    assert out.upper_breach[:3] / caps == pytest.approx(np.full(3, 0.5 / 2.8), rel=2e-2)


def test_changing_a_parameter_re_solves_without_rebuilding():
    m = model(upper_index=[2])
    first = m.solve(TARGETS, np.zeros(0), np.array([10.0]))
    problem = m.hard
    second = m.solve(TARGETS * 1.1, np.zeros(0), np.array([1.2]))
    assert m.hard is problem
    assert first.values == pytest.approx(IDEAL, rel=1e-6)
    assert second.values[2] == pytest.approx(1.2, rel=1e-6)
    assert second.values[3:].sum() / 1.1 == pytest.approx(3.3, rel=1e-8)


def test_a_feasible_row_keeps_its_caps_exactly_when_another_row_is_relaxed():
    caps = np.array([0.5, 1.0, 1.5, 1.05])
    out = model(upper_index=[0, 1, 2, 3]).solve(TARGETS, np.zeros(0), caps)
    assert out.relaxed
    assert out.values[3] <= 1.05 * (1 + 1e-7)
    assert out.upper_breach[3] == pytest.approx(0.0, abs=1e-7)


def test_adjusted_manager_total_is_a_hard_constraint():
    nodes = sp.csr_matrix(np.array([[1.0, 1.0, 0, 0, 0, 0]]) / 1.1)  # a manager over reps 0 and 1
    out = model(nodes=nodes).solve(TARGETS, np.array([2.0]))
    assert (out.values[0] + out.values[1]) / 1.1 == pytest.approx(2.0, rel=1e-8)
    assert out.values[:3].sum() / 1.1 == pytest.approx(3.0, rel=1e-8)


def test_targets_that_cannot_hold_raise_a_solver_error_naming_the_cause():
    nodes = sp.csr_matrix(np.array([[1.0, 1.0, 1.0, 0, 0, 0]]) / 1.1)  # the whole first row...
    with pytest.raises(SolverError, match="adjustments"):
        model(nodes=nodes).solve(TARGETS, np.array([5.0]))  # ...fixed at 5, not 3
