"""Weighted summary statistics of a group of reps: mean, coefficient of variation, Lorenz curve, Gini.

Weights matter for fairness per FTE: with weights = FTE the mean of potential
per FTE is the segment's potential over its FTE (the balancer's definition), a
half-time rep counts half, and the Lorenz curve plots cumulative share of FTE
against cumulative share of potential.
"""

from __future__ import annotations

import numpy as np


def _arrays(values: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = np.isfinite(x) & np.isfinite(w) & (w > 0)
    return x[keep], w[keep]


def weighted_mean(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    x, w = _arrays(values, weights)
    return float((w * x).sum() / w.sum()) if w.sum() > 0 else float("nan")


def weighted_cv(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Population standard deviation over the mean (weighted); NaN when the mean is not positive."""
    x, w = _arrays(values, weights)
    if w.sum() <= 0:
        return float("nan")
    mean = (w * x).sum() / w.sum()
    if mean <= 0:
        return float("nan")
    return float(np.sqrt((w * (x - mean) ** 2).sum() / w.sum()) / mean)


def lorenz_curve(values: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Points (cumulative weight share, cumulative value share) from (0, 0) to (1, 1), poorest first."""
    x, w = _arrays(values, weights)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    mass = w * x
    if w.sum() <= 0 or mass.sum() <= 0:
        return np.array([0.0, 1.0]), np.array([0.0, 1.0])
    share_w = np.concatenate([[0.0], np.cumsum(w) / w.sum()])
    share_x = np.concatenate([[0.0], np.cumsum(mass) / mass.sum()])
    return share_w, share_x


def gini(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Gini coefficient: 1 - twice the area under the Lorenz curve (trapezoids); 0 = perfectly even.

    Unweighted, this equals the mean absolute difference over all pairs divided by twice the mean.
    """
    x, w = _arrays(values, weights)
    if len(x) == 0 or (w * x).sum() <= 0:
        return float("nan") if len(x) == 0 else 0.0
    if (x < 0).any():
        return float("nan")  # the Gini of negative amounts has no fairness meaning
    share_w, share_x = lorenz_curve(x, w)
    return float(1.0 - (np.diff(share_w) * (share_x[1:] + share_x[:-1])).sum())
