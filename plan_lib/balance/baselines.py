"""Two reference assignments the optimiser must beat (the benchmark puts them side by side).

- :func:`greedy`: account families by decreasing potential, each to the rep of its
  balance group with the least potential per FTE so far (ties: lowest rep index).
  Balanced-ish, blind to distance and history.
- :func:`keep_last_year`: every account stays with its previous owner when that owner
  may still own it; the others (new accounts, departed owners) go greedily to the
  least-loaded eligible rep.

Both respect families, locks and eligibility (they use the same prepared models), so
the comparison isolates what the optimisation adds.
"""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd

from plan_lib.balance.prepare import Prepared


def _greedy_fill(model, order: np.ndarray, rep: np.ndarray) -> np.ndarray:
    """Assign units of ``order`` (in that order) to the least loaded eligible rep."""
    load = np.zeros(model.n_reps)
    has = rep >= 0
    np.add.at(load, rep[has], model.balance[has])
    fte = np.maximum(model.target, 1e-12) if model.has_band else np.ones(model.n_reps)
    masks = model.class_mask
    heaps: dict[int, list[tuple[float, int]]] = {}
    for u in order:
        c = int(model.class_of_unit[u])
        heap = heaps.get(c)
        if heap is None:
            heap = [(load[r] / fte[r], int(r)) for r in np.flatnonzero(masks[c])]
            heapq.heapify(heap)
            heaps[c] = heap
        # Lazy heap: refresh entries whose load changed through another class.
        while True:
            key, r = heap[0]
            current = load[r] / fte[r]
            if abs(current - key) <= 1e-15:
                break
            heapq.heapreplace(heap, (current, r))
        rep[u] = r
        load[r] += model.balance[u]
        heapq.heapreplace(heap, (load[r] / fte[r], r))
    return rep


def greedy(prepared: Prepared) -> pd.Series:
    """Greedy baseline: rep_id per account (same row order as ``prepared.accounts``)."""
    out = []
    for model in prepared.models:
        rep = np.full(model.n_units, -1)
        order = np.lexsort((np.arange(model.n_units), -model.balance))
        out.append(_greedy_fill(model, order, rep))
    return _to_accounts(prepared, out)


def keep_last_year(prepared: Prepared) -> pd.Series:
    """Last year's owners where possible, greedy for the rest."""
    out = []
    for model, members, start in zip(
        prepared.models, prepared.members, prepared.unit_start, strict=True
    ):
        rep = np.full(model.n_units, -1)
        owner = prepared.accounts["current_owner"].to_numpy()[members]
        pos = pd.Series(np.arange(model.n_reps), index=model.rep_labels)
        owner_idx = pd.Series(owner).map(pos).fillna(-1).to_numpy(dtype=np.int64)
        weight = prepared.accounts["potential"].to_numpy()[members]
        unit_of_member = np.repeat(np.arange(model.n_units), np.diff(start))
        # the owner of most of the family's potential keeps it
        frame = pd.DataFrame({"unit": unit_of_member, "owner": owner_idx, "w": weight})
        frame = frame[frame["owner"] >= 0].groupby(["unit", "owner"], as_index=False)["w"].sum()
        frame = frame.sort_values(
            ["unit", "w", "owner"], ascending=[True, False, True]
        ).drop_duplicates("unit")
        units, owners = frame["unit"].to_numpy(), frame["owner"].to_numpy()
        ok = model.eligible(units)[np.arange(len(units)), owners]
        rep[units[ok]] = owners[ok]
        rest = np.flatnonzero(rep < 0)
        rest = rest[np.lexsort((rest, -model.balance[rest]))]
        out.append(_greedy_fill(model, rest, rep))
    return _to_accounts(prepared, out)


def _to_accounts(prepared: Prepared, reps_per_model: list[np.ndarray]) -> pd.Series:
    rep_id = np.full(len(prepared.accounts), "", dtype=object)
    for model, members, start, rep in zip(
        prepared.models, prepared.members, prepared.unit_start, reps_per_model, strict=True
    ):
        unit_of_member = np.repeat(np.arange(model.n_units), np.diff(start))
        rep_id[members] = model.rep_labels[rep[unit_of_member]]
    return pd.Series(rep_id, dtype="str")
