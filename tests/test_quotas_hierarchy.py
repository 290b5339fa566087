"""The reporting tree: structure, over-assignment gross-up, roll-up, reorg and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from plan_lib.errors import InputError, ParameterError
from plan_lib.quotas.hierarchy import (
    ROOT,
    apply_reorg,
    build_hierarchy,
    contribution_matrix,
    gross_up,
    rollup,
)
from plan_lib.quotas.params import OverAssignment


def roster(**changes) -> pd.DataFrame:
    """VP -> D1 -> (M1: R1, R2), (M2: R3); X1 is a leaving rep without a book."""
    frame = pd.DataFrame({
        "rep_id": ["VP", "D1", "M1", "M2", "R1", "R2", "R3", "X1"],
        "role": ["vp", "director", "manager", "manager", "rep", "rep", "rep", "rep"],
        "manager_id": ["", "VP", "D1", "D1", "M1", "M1", "M2", "M2"],
        "status": ["active"] * 7 + ["leaving"],
    })
    for column, values in changes.items():
        frame[column] = values
    return frame


FACTORS = OverAssignment(rep=1.1, manager=1.05, director=1.0, vp=1.0)


def test_tree_has_parents_before_children_and_depths():
    tree, notes = build_hierarchy(roster(), ["R1", "R2", "R3"])
    assert tree.nodes[0] == ROOT
    assert "X1" not in tree.index  # leaving, no book, no reports
    for k in range(1, tree.size):
        assert tree.parent[k] < k
    assert tree.depth[tree.index["R1"]] == 4
    assert tree.ancestors("R3") == ["M2", "D1", "VP", ROOT]
    assert sorted(tree.children("M1")) == ["R1", "R2"]
    assert notes == []


def test_gross_up_multiplies_factors_up_to_the_top():
    tree, _ = build_hierarchy(roster(), ["R1", "R2", "R3"])
    g = gross_up(tree, FACTORS.factor)
    assert g[tree.index["R1"]] == pytest.approx(1.1 * 1.05)
    assert g[tree.index["M1"]] == pytest.approx(1.05)
    assert g[tree.index["VP"]] == pytest.approx(1.0)


def test_rollup_sums_every_level_with_the_over_assignment_convention():
    tree, _ = build_hierarchy(roster(), ["R1", "R2", "R3"])
    g = gross_up(tree, FACTORS.factor)
    frame = rollup(tree, g, np.array([110.0, 220.0, 330.0]), np.array([1.0, 2.0, 3.0])).set_index("node_id")
    assert frame.loc["M1", "quota"] == pytest.approx(300.0)  # (110 + 220) / 1.1
    assert frame.loc["M1", "children_sum"] == pytest.approx(330.0)
    assert frame.loc["M1", "over_assignment"] == pytest.approx(1.1)
    assert frame.loc["D1", "quota"] == pytest.approx((300.0 + 300.0) / 1.05)
    assert frame.loc["D1", "over_assignment"] == pytest.approx(1.05)
    assert frame.loc[ROOT, "quota"] == pytest.approx(frame.loc["VP", "quota"])
    assert frame.loc["D1", "potential"] == pytest.approx(6.0)
    assert frame.loc["R1", "n_children"] == 0 and np.isnan(frame.loc["R1", "children_sum"])


def test_contribution_matrix_maps_leaf_quotas_to_every_node():
    tree, _ = build_hierarchy(roster(), ["R1", "R2", "R3"])
    g = gross_up(tree, FACTORS.factor)
    matrix = contribution_matrix(tree, g)
    assert matrix[tree.index["R1"], 0] == pytest.approx(1.0)
    assert matrix[tree.index["M2"], 0] == 0.0
    assert matrix[0, 2] == pytest.approx(1 / (1.1 * 1.05))


def test_reorg_moves_a_rep_and_the_rollup_follows():
    tree, _ = build_hierarchy(roster(), ["R1", "R2", "R3"], {"R2": "M2"})
    g = gross_up(tree, FACTORS.factor)
    frame = rollup(tree, g, np.array([110.0, 220.0, 330.0]), np.ones(3)).set_index("node_id")
    assert frame.loc["R2", "parent_id"] == "M2"
    assert frame.loc["M1", "quota"] == pytest.approx(100.0)
    assert frame.loc["M2", "quota"] == pytest.approx(500.0)
    assert frame.loc["D1", "quota"] == pytest.approx(600.0 / 1.05)  # unchanged above


def test_reorg_that_makes_a_loop_is_refused():
    with pytest.raises(ParameterError, match="loop"):
        apply_reorg({"D1": None, "M1": "D1", "R1": "M1"}, {"D1": "R1"})


def test_reorg_naming_an_unknown_manager_is_refused():
    with pytest.raises(ParameterError, match="quotas.reorg.R1"):
        build_hierarchy(roster(), ["R1", "R2", "R3"], {"R1": "NOPE"})


def test_a_loop_in_the_roster_is_an_input_error():
    with pytest.raises(InputError, match="loop"):
        build_hierarchy(roster(manager_id=["D1", "VP", "D1", "D1", "M1", "M1", "M2", "M2"]), ["R1"])


def test_a_book_carrier_with_reports_is_refused():
    with pytest.raises(InputError, match="carry a book and also have reports"):
        build_hierarchy(roster(), ["M1", "R3"])


def test_a_leaving_manager_with_reports_stays_with_a_note():
    frame = roster(status=["active", "active", "leaving", "active", "active", "active", "active", "leaving"])
    tree, notes = build_hierarchy(frame, ["R1", "R2", "R3"])
    assert "M1" in tree.index
    assert any("M1" in n and "reorg" in n for n in notes)
