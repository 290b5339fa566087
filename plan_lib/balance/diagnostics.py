"""Why a band cannot be met, and by how much it would have to widen.

Two layers:

- :func:`presolve_findings`: necessary conditions checked before any solve, each
  naming its culprits: reps whose locked (or sole-eligible) families already exceed
  the upper band, families too large for every rep they may go to, reps that cannot
  reach their lower band from everything they are eligible for.
- :func:`diagnose` (only when the solve needed band slack): the smallest tau that
  is feasible, from the problem "min t s.t. every rep within +/- t" with the same
  eligibility, locks and families. It is solved as a MILP when the candidate set is
  small (the exact smallest tau for whole families), else as an LP over the priced
  candidates (a lower estimate: whole families may need a little more).
"""

from __future__ import annotations

import warnings
from typing import Any

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from plan_lib.balance.model import Candidates, TerritoryModel

#: How many culprit labels to list per finding (the rest are counted).
MAX_LISTED = 20


def _labels(values: np.ndarray) -> list[str]:
    return [str(v) for v in values[:MAX_LISTED]]


def presolve_findings(model: TerritoryModel) -> list[dict[str, Any]]:
    """Band conditions that fail before solving (empty list = none found)."""
    if not model.has_band:
        return []
    findings: list[dict[str, Any]] = []
    hi = (1.0 + model.tau) * model.target
    lo = (1.0 - model.tau) * model.target
    mask = model.eligible(np.arange(model.n_units))
    n_elig = mask.sum(axis=1)
    sole = n_elig == 1
    sole_rep = np.where(sole, mask.argmax(axis=1), -1)
    forced = model.loads(sole_rep, model.balance)
    for r in np.flatnonzero(forced > hi * (1 + 1e-9)):
        units = np.flatnonzero(sole_rep == r)
        units = units[np.argsort(-model.balance[units], kind="stable")]
        findings.append(
            {
                "kind": "locks_over_band",
                "rep_id": str(model.rep_labels[r]),
                "message": f"families locked to {model.rep_labels[r]} (locks, protection, named accounts) "
                f"already carry {forced[r] / model.target[r]:.1%} of its fair share, above the band's "
                f"{1 + model.tau:.1%}: unlock some of them or widen tau",
                "relative_load": float(forced[r] / model.target[r]),
                "units": _labels(model.unit_labels[units]),
                "n_units": len(units),
            }
        )
    best_hi = np.where(mask, hi[None, :], 0.0).max(axis=1)
    too_big = np.flatnonzero(model.balance > best_hi * (1 + 1e-9))
    if len(too_big):
        order = too_big[np.argsort(-model.balance[too_big], kind="stable")]
        findings.append(
            {
                "kind": "oversized_units",
                "message": f"{len(too_big)} account families are larger than the upper band of every rep "
                "they may go to: widen tau, or split the family",
                "units": _labels(model.unit_labels[order]),
                "relative_size": [
                    float(model.balance[u] / best_hi[u] * (1 + model.tau))
                    for u in order[:MAX_LISTED]
                ],
                "n_units": len(too_big),
            }
        )
    reachable = (model.balance[:, None] * mask).sum(axis=0)
    for r in np.flatnonzero(reachable < lo * (1 - 1e-9)):
        findings.append(
            {
                "kind": "starved_rep",
                "rep_id": str(model.rep_labels[r]),
                "message": f"{model.rep_labels[r]} is eligible for only {reachable[r] / model.target[r]:.1%} "
                f"of its fair share: loosen its eligibility (region, vertical) or lower its FTE",
                "reachable_share": float(reachable[r] / model.target[r]),
            }
        )
    return findings


def smallest_feasible_tau(
    model: TerritoryModel, cands: Candidates, *, integer: bool, time_limit: float, seed: int
) -> dict[str, Any]:
    """min t such that every rep's load is within (1 +/- t) x fair share (move cap ignored)."""
    if not model.has_band:
        return {"smallest_feasible_tau": 0.0, "method": "no band"}
    n_e, n_r = len(cands), model.n_reps
    units, local = np.unique(cands.unit, return_inverse=True)
    cols = np.arange(n_e)
    x = cp.Variable(n_e, boolean=True) if integer else cp.Variable(n_e, bounds=[0, 1])
    t = cp.Variable(bounds=[0, None])
    A = sp.csr_matrix((np.ones(n_e), (local, cols)), shape=(len(units), n_e))
    B = sp.csr_matrix(
        (model.balance[cands.unit] / model.target[cands.rep], (cands.rep, cols)), shape=(n_r, n_e)
    )
    # A tiny cost term picks a sensible point among the many with the same t.
    scale = float(np.abs(cands.cost).max(initial=0.0)) or 1.0
    objective = t + 1e-6 * (cands.cost / (scale * max(len(units), 1))) @ x
    problem = cp.Problem(cp.Minimize(objective), [A @ x == 1, B @ x <= 1 + t, B @ x >= 1 - t])
    opts: dict[str, Any] = {"time_limit": time_limit, "random_seed": seed, "threads": 1}
    if integer:
        opts["mip_rel_gap"] = 1e-6
    with warnings.catch_warnings():  # "may be inaccurate" on a time limit: the status is checked
        warnings.simplefilter("ignore", UserWarning)
        problem.solve(solver=cp.HIGHS, verbose=False, **opts)
    method = (
        "MILP over all candidates (exact for whole families)"
        if integer
        else "LP over the priced candidates (lower estimate)"
    )
    if t.value is None or problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE, cp.USER_LIMIT):
        return {"smallest_feasible_tau": None, "method": method, "status": str(problem.status)}
    load = B @ np.asarray(x.value)
    binding = np.flatnonzero(np.abs(load - 1.0) >= float(t.value) - 1e-6)
    return {
        "smallest_feasible_tau": float(t.value),
        "method": method,
        "status": str(problem.status),
        "binding_reps": _labels(model.rep_labels[binding]),
    }


def diagnose(
    model: TerritoryModel, cands: Candidates, opts: Any, lp_feasible: bool, ev: Any
) -> dict[str, Any]:
    """Explain a solve that needed band (or move-cap) slack."""
    integer = len(cands) <= opts.exact_mip_max_vars
    band_violated = bool(ev.band_excess.sum() > 0)
    if not band_violated:
        cause = "the move cap is too tight for the band: raise max_move_share or widen tau"
    elif not lp_feasible:
        cause = "the hard band cannot be met with these settings"
    else:
        cause = "the band is met by fractional families only: whole families cannot meet it (granularity)"
    out: dict[str, Any] = {"cause": cause, "tau": model.tau}
    out.update(
        smallest_feasible_tau(
            model, cands, integer=integer, time_limit=opts.repair_time_limit, seed=opts.seed
        )
    )
    return out
