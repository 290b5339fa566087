"""Rounding that keeps sums exact: largest remainder inside bounds, plug for off-grid totals."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from plan_lib.quotas.rounding import reconcile_group_totals, round_to_grid


def test_largest_remainders_move_up_and_the_sum_is_kept():
    out = round_to_grid(np.array([1400.0, 1600.0, 1000.0]), 1000)
    assert out.values.tolist() == [1000.0, 2000.0, 1000.0]
    assert not out.off_grid.any()


def test_two_steps_go_to_the_two_largest_remainders():
    out = round_to_grid(np.array([1300.0, 1900.0, 1800.0]), 1000)  # total 5000: two values go up
    assert out.values.tolist() == [1000.0, 2000.0, 2000.0]


def test_a_cap_is_never_crossed_even_with_the_largest_remainder():
    values = np.array([1900.0, 1100.0])
    out = round_to_grid(values, 1000, upper=np.array([1950.0, np.inf]))
    assert out.values.tolist() == [1000.0, 2000.0]


def test_a_floor_is_never_crossed():
    values = np.array([1100.0, 1900.0])
    out = round_to_grid(values, 1000, lower=np.array([1050.0, 0.0]))
    assert out.values[0] >= 1050.0
    assert out.values.sum() == pytest.approx(3000.0, abs=1e-9)


def test_a_total_off_the_grid_is_plugged_exactly_on_the_largest_value():
    out = round_to_grid(np.array([400.3, 600.2]), 100, total=1000.5)
    assert out.values.sum() == pytest.approx(1000.5, abs=1e-9)
    assert out.off_grid.tolist() == [False, True]


def test_weights_define_which_sum_is_kept():
    values = np.array([1100.0, 2200.0])  # contributions 1000 + 2000 with weights 1/1.1
    weights = np.array([1 / 1.1, 1 / 1.1])
    out = round_to_grid(values, 1000, weights=weights, total=3000.0)
    assert np.dot(weights, out.values) == pytest.approx(3000.0, rel=1e-12)


def test_without_a_step_only_the_total_is_made_exact():
    out = round_to_grid(np.array([1.0, 2.0]), None, total=3.5)
    assert out.values.sum() == pytest.approx(3.5, abs=1e-12)
    assert out.values[0] == 1.0


def test_impossible_bounds_are_refused():
    with pytest.raises(ValueError, match="cannot round"):
        round_to_grid(np.array([1.0, 1.0]), 1, total=10.0, upper=np.array([1.0, 1.0]))


def test_group_totals_are_put_exactly_on_the_constraints():
    incidence = sp.csr_matrix(np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]))
    rhs = np.array([10.0, 5.0, 4.0])
    exact = reconcile_group_totals(np.array([4.0000001, 5.9999997, 5.0000002]), incidence, rhs)
    assert incidence @ exact == pytest.approx(rhs, abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    data=st.lists(st.tuples(st.floats(0, 5e6), st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=40),
    step=st.sampled_from([1.0, 100.0, 1000.0, 5000.0]),
    factor=st.sampled_from([1.0, 1.1, 1.155]),
)
def test_property_sums_exact_and_bounds_kept(data, step, factor):
    values = np.array([d[0] for d in data])
    lower = values * (1 - 0.2 * np.array([d[1] for d in data]))
    upper = values * (1 + 0.2 * np.array([d[2] for d in data]))
    weights = np.full(len(values), 1 / factor)
    total = float(np.dot(weights, values))
    out = round_to_grid(values, step, total=total, weights=weights, lower=lower, upper=upper)
    scale = max(1.0, float(values.max()), total)
    assert np.dot(weights, out.values) == pytest.approx(total, abs=1e-8 * scale)
    assert np.all(out.values >= lower - 1e-8 * scale)
    assert np.all(out.values <= upper + 1e-8 * scale)
    on_grid = ~out.off_grid
    # a multiple next to the value, or one step further where bounds forced a neighbour the other way
    assert np.all(np.abs(out.values - values)[on_grid] < 2 * step + 1e-8 * scale)


@settings(max_examples=100, deadline=None)
@given(
    units=st.lists(st.floats(0, 1e4), min_size=1, max_size=30),
    steps_total=st.integers(0, 1000),
)
def test_property_on_grid_total_and_loose_bounds_give_only_multiples(units, steps_total):
    values = np.array(units) * 1000.0
    # a total on the grid close to the values' own sum
    total = float(np.round(values.sum() / 1000.0) * 1000.0)
    out = round_to_grid(values * (total / values.sum()) if values.sum() > 0 else values, 1000, total=total,
                        lower=np.zeros(len(values)))
    assert out.values.sum() == pytest.approx(total, abs=1e-6)
    assert not out.off_grid.any()
