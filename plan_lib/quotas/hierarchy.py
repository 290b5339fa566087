"""The reporting tree (rep -> manager -> director -> vp -> company) and roll-ups along it.

Quotas are decided for book-carrying reps (the leaves) only; every other
node's quota is *derived* from its children (``params`` module docstring), so
the sums hold at every level by construction and a reorg re-rolls everything
by rebuilding the tree. The tree is stored as plain arrays indexed by node, in
breadth-first order (a parent always comes before its children), which makes
roll-ups a single sparse product.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from plan_lib.errors import InputError, ParameterError

ROOT = "(company)"


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def apply_reorg(managers: Mapping[str, str | None], reorg: Mapping[str, str]) -> dict[str, str | None]:
    """Managers after the moves of ``quotas.reorg``; refuses moves that name unknown people or make a loop."""
    moved = dict(managers)
    for rep_id, new_manager in reorg.items():
        if rep_id not in moved:
            raise ParameterError("parameters", f"quotas.reorg.{rep_id}", f"'{rep_id}' is not in the reps table: check the rep_id")
        if new_manager not in moved:
            raise ParameterError(
                "parameters", f"quotas.reorg.{rep_id}",
                f"new manager '{new_manager}' is not in the reps table: name an existing rep_id",
            )
        moved[rep_id] = new_manager
    for rep_id in reorg:
        chain = _chain(moved, rep_id)
        if chain is None:
            raise ParameterError(
                "parameters", f"quotas.reorg.{rep_id}",
                f"moving '{rep_id}' under '{reorg[rep_id]}' puts it under its own team (a loop): choose a manager outside its subtree",
            )
    return moved


def _chain(managers: Mapping[str, str | None], node: str) -> list[str] | None:
    """Managers above ``node`` up to the top, or None if the chain loops."""
    seen = {node}
    chain: list[str] = []
    current = managers.get(node)
    while current is not None and current in managers:
        if current in seen:
            return None
        seen.add(current)
        chain.append(current)
        current = managers.get(current)
    return chain


@dataclass(frozen=True)
class Hierarchy:
    """The tree: ``nodes[0]`` is the company root; ``parent[k]`` is an index (-1 for the root)."""

    nodes: list[str]
    parent: np.ndarray
    role: list[str]
    depth: np.ndarray
    leaves: list[str]
    leaf_node: np.ndarray  # node index of each leaf, in ``leaves`` order
    index: dict[str, int] = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.nodes)

    def children(self, node: str) -> list[str]:
        k = self.index[node]
        return [self.nodes[c] for c in np.flatnonzero(self.parent == k)]

    def ancestors(self, node: str) -> list[str]:
        """Nodes above ``node``, nearest first, ending with the root."""
        out: list[str] = []
        k = self.parent[self.index[node]]
        while k >= 0:
            out.append(self.nodes[k])
            k = self.parent[k]
        return out

    @cached_property
    def membership(self) -> sp.csr_matrix:
        """Nodes x leaves: 1 where the leaf is in the node's subtree (a leaf is in its own)."""
        rows, cols = [], []
        for j, k in enumerate(self.leaf_node):
            while k >= 0:
                rows.append(k)
                cols.append(j)
                k = self.parent[k]
        data = np.ones(len(rows))
        return sp.csr_matrix((data, (rows, cols)), shape=(self.size, len(self.leaves)))

    def subtree_leaves(self, node: str) -> list[str]:
        row = self.membership[self.index[node]]
        return [self.leaves[j] for j in row.indices]


def build_hierarchy(reps: pd.DataFrame, leaves: Sequence[str], reorg: Mapping[str, str] | None = None) -> tuple[Hierarchy, list[str]]:
    """Tree of every non-leaving person in ``reps`` plus the leaves, after ``reorg``.

    Returns the tree and notes for the diagnostics (people kept only because
    they still have reports, managers outside the roster). A leaving person
    with no book and no reports is left out: they carry no quota.
    """
    notes: list[str] = []
    ids = [str(x) for x in reps["rep_id"]]
    managers = {rid: _text(m) for rid, m in zip(ids, reps["manager_id"], strict=True)}
    roles = {rid: (_text(r) or "") for rid, r in zip(ids, reps.get("role", pd.Series([None] * len(reps))), strict=True)}
    status = {rid: (_text(s) or "active") for rid, s in zip(ids, reps.get("status", pd.Series([None] * len(reps))), strict=True)}
    unknown = sorted({m for m in managers.values() if m is not None and m not in managers})
    if unknown:
        notes.append(f"managers not in the reps table: {', '.join(unknown[:10])}; their reports roll up to the company directly")
        managers = {k: (m if m in managers else None) for k, m in managers.items()}
    loops = [rid for rid in ids if _chain(managers, rid) is None]
    if loops:
        raise InputError("reps", f"manager_id forms a loop through {', '.join(sorted(loops)[:10])}", column="manager_id",
                         fix="Give each person a manager above them, ending at someone with an empty manager_id")
    managers = apply_reorg(managers, reorg or {})

    leaf_set = set(leaves)
    missing = [rid for rid in leaves if rid not in managers]
    if missing:
        raise InputError("books", f"rep_ids not in the reps table: {', '.join(missing[:10])}", column="rep_id",
                         fix="Books must be built from the current reps table; re-run the balancing step")
    keep = {rid for rid in ids if status[rid] != "leaving" or rid in leaf_set}
    for rid in list(keep):  # a leaving manager with reports stays, so the reports still roll up
        for above in _chain(managers, rid) or []:
            if above not in keep:
                keep.add(above)
                notes.append(f"'{above}' is leaving but still has reports: move them with quotas.reorg")
    carriers_with_reports = sorted({m for rid, m in managers.items() if rid in keep and m in leaf_set})
    if carriers_with_reports:
        raise InputError(
            "books", f"{', '.join(carriers_with_reports[:10])} carry a book and also have reports", column="rep_id",
            fix="Quotas of managers are derived from their team: give the book to a rep row (open headcount) or move the reports with quotas.reorg",
        )

    children: dict[str | None, list[str]] = {}
    for rid in ids:
        if rid in keep:
            children.setdefault(managers[rid], []).append(rid)
    nodes, parents = [ROOT], [-1]
    queue: list[tuple[str | None, int]] = [(None, 0)]
    while queue:
        next_queue: list[tuple[str | None, int]] = []
        for parent_id, parent_index in queue:
            for child in children.get(parent_id, []):
                parents.append(parent_index)
                nodes.append(child)
                next_queue.append((child, len(nodes) - 1))
        queue = next_queue
    index = {node: k for k, node in enumerate(nodes)}
    depth = np.zeros(len(nodes), dtype=np.int64)
    for k in range(1, len(nodes)):
        depth[k] = depth[parents[k]] + 1
    role = ["company"] + [roles[n] or ("rep" if n in leaf_set else "") for n in nodes[1:]]
    tree = Hierarchy(
        nodes=nodes, parent=np.asarray(parents, dtype=np.int64), role=role, depth=depth,
        leaves=list(leaves), leaf_node=np.asarray([index[rid] for rid in leaves], dtype=np.int64), index=index,
    )
    return tree, notes


def gross_up(tree: Hierarchy, factor_of_role) -> np.ndarray:
    """Per node, the product of the over-assignment factors from the node up to (not including) the root.

    ``quota(node) = gross_up(node) x sum over leaves in its subtree of quota(leaf) / gross_up(leaf)``.
    """
    factor = np.array([1.0] + [factor_of_role(r) for r in tree.role[1:]])
    g = np.ones(tree.size)
    for k in range(1, tree.size):  # parents come first
        g[k] = factor[k] * g[tree.parent[k]]
    return g


def contribution_matrix(tree: Hierarchy, g: np.ndarray) -> sp.csr_matrix:
    """Nodes x leaves: ``node_quotas = matrix @ leaf_quotas`` (entry ``g[node] / g[leaf]``)."""
    member = tree.membership.tocoo()
    data = g[member.row] / g[tree.leaf_node[member.col]]
    return sp.csr_matrix((data, (member.row, member.col)), shape=member.shape)


def rollup(tree: Hierarchy, g: np.ndarray, leaf_quota: np.ndarray, leaf_potential: np.ndarray,
           attributes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every node: its quota, the sum of its children's quotas, the over-assignment and the potential below it."""
    quota = contribution_matrix(tree, g) @ np.asarray(leaf_quota, dtype=float)
    potential = tree.membership @ np.asarray(leaf_potential, dtype=float)
    n_reps = np.asarray(tree.membership.sum(axis=1)).ravel()
    has_parent = tree.parent >= 0
    children_sum = np.bincount(tree.parent[has_parent], weights=quota[has_parent], minlength=tree.size)
    n_children = np.bincount(tree.parent[has_parent], minlength=tree.size)
    children_sum = np.where(n_children > 0, children_sum, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        over = np.where((n_children > 0) & (quota > 0), children_sum / quota, np.nan)
    frame = pd.DataFrame({
        "node_id": pd.Series(tree.nodes, dtype="str"),
        "role": pd.Series(tree.role, dtype="str"),
        "parent_id": pd.Series([tree.nodes[p] if p >= 0 else None for p in tree.parent], dtype="str"),
        "level": tree.depth,
        "quota": quota,
        "children_sum": children_sum,
        "over_assignment": over,
        "potential": potential,
        "n_reps": n_reps.astype(np.int64),
        "n_children": n_children.astype(np.int64),
    })
    if attributes is not None:
        frame = frame.merge(attributes, how="left", left_on="node_id", right_index=True)
    return frame
