"""Units of every monitoring level, and how any per-rep or per-account figure rolls up to them.

Two kinds of level:

- groups of reps: ``rep``, ``team`` (every manager, director and VP: their whole
  subtree, through the reporting tree of ``plan_lib.quotas.hierarchy``),
  ``segment`` and ``region`` (the rep's), ``company``;
- groups of accounts: ``industry``, ``state``, ``county`` (the account's
  attributes, whoever holds it).

A :class:`Grouping` maps its base (reps or accounts) to units with an integer
code per base row, or, for teams (a rep belongs to several teams), with a
sparse units x reps membership matrix. ``sum_by`` then rolls anything up in
one vectorised call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from plan_lib.monitor.params import REP_LEVELS
from plan_lib.monitor.plan import Plan
from plan_lib.quotas.hierarchy import ROOT

ACCOUNT_COLUMNS = {"industry": "industry", "state": "state", "county": "county_fips"}
UNALLOCATED = "(no accounts)"


@dataclass
class Grouping:
    level: str
    labels: np.ndarray  # unit ids
    base: str  # "rep" or "account"
    codes: np.ndarray | None  # base row -> unit (-1 none)
    matrix: sp.csr_matrix | None  # units x reps, for teams
    info: pd.DataFrame  # descriptive columns per unit (same order as labels)

    @property
    def size(self) -> int:
        return len(self.labels)

    def sum_by(self, values: np.ndarray, base_index: np.ndarray | None = None) -> np.ndarray:
        """Sum ``values`` per unit. ``values`` is per base row, or per item with ``base_index`` giving
        each item's base row (-1 = none). 2-D values (items x columns) give units x columns."""
        values = np.asarray(values, dtype=float)
        if self.matrix is not None:
            n_base = self.matrix.shape[1]
            if base_index is not None:
                values = _bincount(base_index, values, n_base)
            return np.asarray(self.matrix @ values)
        assert self.codes is not None
        codes = self.codes if base_index is None else np.where(base_index >= 0, self.codes[np.maximum(base_index, 0)], -1)
        return _bincount(codes, values, self.size)

    def unit_of(self, base_index: np.ndarray) -> np.ndarray:
        """Unit of each item (single-membership levels only)."""
        if self.codes is None:
            raise ValueError(f"level {self.level} has overlapping units")
        return np.where(base_index >= 0, self.codes[np.maximum(base_index, 0)], -1)


def _bincount(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    ok = codes >= 0
    if values.ndim == 1:
        return np.bincount(codes[ok], weights=values[ok], minlength=size)
    out = np.zeros((size, values.shape[1]))
    np.add.at(out, codes[ok], values[ok])
    return out


def _factor(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, labels = pd.factorize(pd.Series(values, dtype="str"), sort=True)
    return codes.astype(np.int64), np.asarray(labels, dtype=object)


def grouping(plan: Plan, level: str) -> Grouping:
    """The units of ``level`` (see the module docstring)."""
    reps = plan.reps
    if level == "rep":
        info = reps[["rep_id", "manager_id", "segment", "region", "status"]].rename(columns={"rep_id": "unit_id"})
        return Grouping(level, reps["rep_id"].to_numpy(dtype=object), "rep", np.arange(plan.n_reps), None, info.reset_index(drop=True))
    if level in ("segment", "region"):
        codes, labels = _factor(reps[level].to_numpy())
        return Grouping(level, labels, "rep", codes, None, pd.DataFrame({"unit_id": labels}))
    if level == "company":
        return Grouping(level, np.array([ROOT], dtype=object), "rep", np.zeros(plan.n_reps, dtype=np.int64), None,
                        pd.DataFrame({"unit_id": [ROOT]}))
    if level == "team":
        tree = plan.hierarchy
        is_leaf = np.zeros(tree.size, dtype=bool)
        is_leaf[tree.leaf_node] = True
        below = np.asarray(tree.membership.sum(axis=1)).ravel()
        rows = np.flatnonzero(~is_leaf & (tree.parent >= 0) & (below > 0))  # managers with at least one book below
        labels = np.asarray([tree.nodes[k] for k in rows], dtype=object)
        info = pd.DataFrame({
            "unit_id": labels,
            "role": [tree.role[k] for k in rows],
            "parent_id": [tree.nodes[tree.parent[k]] for k in rows],
        })
        return Grouping(level, labels, "rep", None, tree.membership[rows].tocsr(), info)
    if level in ACCOUNT_COLUMNS:
        codes, labels = _factor(plan.accounts[ACCOUNT_COLUMNS[level]].to_numpy())
        return Grouping(level, labels, "account", codes, None, pd.DataFrame({"unit_id": labels}))
    raise ValueError(f"unknown level {level!r}")


def is_rep_level(level: str) -> bool:
    return level in REP_LEVELS


def account_shares(plan: Plan) -> np.ndarray:
    """Each account's share of its rep's book: potential / book potential (equal shares in a
    zero-potential book; 0 for accounts held by nobody in the plan). Quota, quota to date and FTE
    are allocated to accounts, hence to industries and places, with these shares."""
    acc = plan.accounts
    rep = acc["rep"].to_numpy()
    held = rep >= 0
    p = acc["potential"].to_numpy(dtype=float)
    book = plan.reps["potential"].to_numpy(dtype=float)
    count = plan.reps["accounts"].to_numpy(dtype=float)
    safe = np.maximum(rep, 0)
    share = np.where(book[safe] > 0, p / np.where(book[safe] > 0, book[safe], 1.0), 1.0 / np.maximum(count[safe], 1.0))
    return np.where(held, share, 0.0)
