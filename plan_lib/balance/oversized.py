"""Reps whose band no arrangement can meet: centre their band on what they must carry.

Three things break a rep's band whatever the others do (the same conditions that
:func:`~plan_lib.balance.diagnostics.presolve_findings` reports):

- a family larger than the upper band of every rep it may go to (it lands
  somewhere: on the eligible rep with the fewest locked families, then the one it
  costs least on, by compactness and continuity);
- families locked to a rep (locks, protection, named accounts) that already exceed
  its upper band;
- a rep who cannot reach the lower band from every family they are eligible for.

Left in the model, any of these makes the whole group infeasible: the solve falls
back to the elastic MILP, which at scale spreads the violation over many reps and
runs into its time limit. Instead the solver sees those reps with their band
centred on what they must carry, every other rep keeps its fair share and the hard
band, and the result is evaluated against the real band: the culprits are
reported as the violations they are, and nobody else is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from plan_lib.balance.model import TerritoryModel


@dataclass(frozen=True)
class Relaxation:
    """One rep whose band was centred on an unavoidable load for the solve."""

    rep: int
    kind: str  # oversized_family | locks_over_band | cannot_reach_band
    relative_load: float  # the unavoidable load / the rep's fair share
    unit: int = -1  # the oversized family, if that is the cause

    def to_dict(self, model: TerritoryModel) -> dict[str, object]:
        out: dict[str, object] = {
            "rep_id": str(model.rep_labels[self.rep]),
            "kind": self.kind,
            "relative_load": self.relative_load,
        }
        if self.unit >= 0:
            out["family"] = str(model.unit_labels[self.unit])
        return out


def relax_unavoidable(model: TerritoryModel) -> tuple[TerritoryModel, list[Relaxation]]:
    """The model to solve (culprit reps' targets set to their unavoidable load) and the
    relaxations made; the model itself when there are none."""
    if not model.has_band or model.n_reps < 2:
        return model, []
    target = model.target.copy()
    taken = np.zeros(model.n_reps, dtype=bool)
    relaxations: list[Relaxation] = []

    def relax(rep: int, load: float, kind: str, unit: int = -1) -> None:
        relaxations.append(Relaxation(rep, kind, float(load / model.target[rep]), unit))
        target[rep] = load
        taken[rep] = True

    mask = model.eligible(np.arange(model.n_units))
    sole = mask.sum(axis=1) == 1
    forced = model.loads(np.where(sole, mask.argmax(axis=1), -1), model.balance)
    hi, lo = (1.0 + model.tau) * model.target, (1.0 - model.tau) * model.target
    for rep in np.flatnonzero(forced > hi * (1 + 1e-9)):
        relax(int(rep), forced[rep], "locks_over_band")
    reachable = (model.balance[:, None] * mask).sum(axis=0)
    for rep in np.flatnonzero((reachable < lo * (1 - 1e-9)) & ~taken):
        relax(int(rep), reachable[rep], "cannot_reach_band")
    best_hi = np.where(mask, hi[None, :], 0.0).max(axis=1)
    giants = np.flatnonzero(model.balance > best_hi * (1 + 1e-9))
    for unit in giants[np.argsort(-model.balance[giants], kind="stable")]:
        open_reps = np.flatnonzero(mask[unit] & ~taken)
        if len(open_reps) == 0:
            continue  # more giants than reps: the diagnostics say so
        # The least locked-in rep (its excess is the family plus its locks), then the cheapest.
        least = forced[open_reps] <= forced[open_reps].min() + 0.01 * model.target[open_reps]
        open_reps = open_reps[least]
        costs = model.pair_costs(np.full(len(open_reps), unit), open_reps)
        rep = int(open_reps[np.argmin(costs)])
        # The rep keeps the families locked to it: the family comes on top of them.
        relax(rep, model.balance[unit] + forced[rep], "oversized_family", int(unit))
    if not relaxations:
        return model, []
    return replace(model, target=target), relaxations
