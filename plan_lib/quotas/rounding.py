"""Rounding to a granularity while sums stay exact (largest remainder, inside bounds).

Why not ``np.round``: rounding each quota on its own breaks the sums the plan
promised (the reps of a manager no longer add up to 1.10 x the manager's quota,
the company no longer adds up to the target). Largest-remainder rounding moves
the fewest quotas by one step, the ones closest to the next multiple, and never
across a cap or a floor. When the total itself is not on the grid (a target of
1,234,567), a residual of less than one step is added exactly to the largest
quota that has room (the "plug"), so sums stay exact and at most a few values
are off the grid; they are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class Rounded:
    """Rounded values and which of them are off the grid (plugs or boxed in by their bounds)."""

    values: np.ndarray
    off_grid: np.ndarray


def _on_grid(values: np.ndarray, step: float) -> np.ndarray:
    ratio = values / step
    return np.abs(ratio - np.round(ratio)) <= 1e-9 * np.maximum(1.0, np.abs(ratio))


def round_to_grid(
    values: np.ndarray,
    step: float | None,
    *,
    total: float | None = None,
    weights: np.ndarray | None = None,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
) -> Rounded:
    """Round ``values`` to multiples of ``step`` keeping ``sum(weights * result) == total``.

    ``total`` defaults to ``sum(weights * values)``; ``weights`` (default 1) let a
    group hold reps whose contribution to the constrained sum differs (a rep one
    level deeper in the hierarchy is divided by one more over-assignment factor).
    ``lower``/``upper`` are never crossed (the values must lie inside them).
    Ties are broken by position, so the result is deterministic. ``step=None``
    keeps the values unrounded and only makes the total exact (plug).
    """
    v = np.asarray(values, dtype=float)
    n = len(v)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    lo = np.full(n, -np.inf) if lower is None else np.asarray(lower, dtype=float)
    hi = np.full(n, np.inf) if upper is None else np.asarray(upper, dtype=float)
    target = float(np.dot(w, v)) if total is None else float(total)
    if n == 0:
        return Rounded(v.copy(), np.zeros(0, dtype=bool))
    scale = max(1.0, float(np.abs(v).max()), abs(target))
    tol = 1e-9 * scale

    index = np.arange(n)
    result = v.copy()
    if step:
        result = _largest_remainder(v, step, w, lo, hi, target, tol)
    need = target - float(np.dot(w, result))
    if abs(need) > tol:
        # plug: the sub-step residual goes to the largest values that have room
        for i in index[np.lexsort((index, -result))]:
            room = (hi[i] - result[i]) if need > 0 else (result[i] - lo[i])
            if room <= 0 or w[i] <= 0:
                continue
            delta = float(np.clip(need / w[i], -room, room))
            result[i] += delta
            need -= w[i] * delta
            if abs(need) <= tol:
                break
    if abs(need) > tol:
        raise ValueError(
            f"cannot round to a total of {target:,.2f} inside the bounds (short by {need:,.2f}); "
            "the unrounded values must lie inside their bounds"
        )
    return Rounded(result, ~_on_grid(result, step) if step else np.zeros(n, dtype=bool))


def _largest_remainder(v: np.ndarray, step: float, w: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                       target: float, tol: float) -> np.ndarray:
    """Whole steps only: start from the multiple below (above where a floor forbids it), then move
    the values with the largest remainders up one step while the weighted total allows it."""
    index = np.arange(len(v))
    snapped = np.where(_on_grid(v, step), np.round(v / step) * step, v)
    down = np.floor(snapped / step) * step
    up = down + step
    frac = (snapped - down) / step
    can_down = down >= lo - tol
    can_up = up <= hi + tol
    result = np.where(can_down, down, np.where(can_up, up, v))
    need = target - float(np.dot(w, result))
    if need > tol:
        # largest remainder first; exact multiples (frac 0) come last and absorb what is left
        candidates = index[(result == down) & can_down & can_up]
        for i in candidates[np.lexsort((candidates, -frac[candidates]))]:
            if w[i] * step <= need + tol:
                result[i] = up[i]
                need -= w[i] * step
    elif need < -tol:
        # floors forced some values up: take back whole steps where floors leave room
        candidates = index[result - step >= lo - tol]
        for i in candidates[np.lexsort((candidates, frac[candidates]))]:
            if w[i] * step <= -need + tol:
                result[i] -= step
                need += w[i] * step
    return result


def reconcile_group_totals(group_sums: np.ndarray, incidence: sp.spmatrix, rhs: np.ndarray) -> np.ndarray:
    """Smallest change to the solver's group sums so that every constraint total holds exactly.

    The solver meets ``incidence @ sums == rhs`` only to its tolerance (about
    1e-8 relative); rounding then preserves each group's sum, so the groups must
    first be put exactly on the constraints (least-norm correction).
    """
    sums = np.asarray(group_sums, dtype=float)
    if incidence.shape[0] == 0:
        return sums
    matrix = incidence.toarray() if sp.issparse(incidence) else np.asarray(incidence)
    residual = rhs - matrix @ sums
    correction, *_ = np.linalg.lstsq(matrix, residual, rcond=None)
    return sums + correction
