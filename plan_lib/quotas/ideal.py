"""Which target each rep serves, and the method's ideal quota before any constraint.

Targets are given per segment x region, where an empty segment or region
means "all". The rows of a period must *partition* the reps: each rep is
covered by exactly one row, otherwise a rep would have two targets to serve and
the plan could not reconcile to both.

The ideal of rep ``i`` in target row ``r`` is::

    ideal_i = T_r * w_i / sum_{j in r} (w_j / g_j)

where ``g`` is the product of over-assignment factors above the rep and ``w``
the method's weight: book potential x ramp ('potential_index'), ramp-adjusted
past bookings per day x ramp ('historical'), or a blend of the two ideals.
With these ideals the targets hold exactly and ``quota / potential`` is the
same for every rep of a row with the same ``g``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from plan_lib.errors import InputError


def _blank(series: pd.Series) -> pd.Series:
    text = series.astype("str").str.strip()
    return series.isna() | text.eq("") | text.str.lower().isin(["nan", "none", "<na>"])


@dataclass(frozen=True)
class TargetRows:
    """The period's target rows and, per rep, the index of its row (-1 when no row covers it)."""

    rows: pd.DataFrame  # segment, region (None = all), target, label
    row_of: np.ndarray


def match_targets(targets: pd.DataFrame, period: str, segment: pd.Series, region: pd.Series) -> TargetRows:
    """Rows of ``targets`` for ``period`` and the row each rep falls in; refuses overlapping rows."""
    for column in ("period", "bookings_target"):
        if column not in targets.columns:
            raise InputError("targets", "missing column", column=column, fix="See the data contract in the README")
    own = targets[targets["period"].astype(str) == str(period)].reset_index(drop=True)
    if own.empty:
        found = ", ".join(sorted(targets["period"].astype(str).unique())[:8]) or "none"
        raise InputError("targets", f"no target for period {period} (periods found: {found})", column="period",
                         fix="Add the period's bookings_target rows or correct the period in the parameters")
    seg = own["segment"] if "segment" in own else pd.Series([None] * len(own))
    reg = own["region"] if "region" in own else pd.Series([None] * len(own))
    seg = pd.Series([None if b else str(v).strip() for v, b in zip(seg, _blank(seg), strict=True)], dtype=object)
    reg = pd.Series([None if b else str(v).strip() for v, b in zip(reg, _blank(reg), strict=True)], dtype=object)
    duplicated = pd.DataFrame({"s": seg.fillna("*"), "r": reg.fillna("*")}).duplicated(keep=False)
    if duplicated.any():
        raise InputError("targets", f"{int(duplicated.sum())} rows for the same period, segment and region",
                         column="segment", fix="Keep one bookings_target per period, segment and region")
    rows = pd.DataFrame({
        "segment": seg.astype(object), "region": reg.astype(object),
        "target": pd.to_numeric(own["bookings_target"], errors="coerce").astype(float),
    })
    if rows["target"].isna().any() or (rows["target"] < 0).any():
        raise InputError("targets", f"bookings_target missing, not a number or negative for period {period}",
                         column="bookings_target", fix="Enter every target as a non-negative amount")
    rows["label"] = [f"{s or 'all segments'} / {r or 'all regions'}" for s, r in zip(rows["segment"], rows["region"], strict=True)]

    rep_segment = segment.astype(str).to_numpy()
    rep_region = region.astype(str).to_numpy()
    cover = np.zeros((len(rows), len(rep_segment)), dtype=bool)
    for k, (s, r) in enumerate(zip(rows["segment"], rows["region"], strict=True)):
        cover[k] = (rep_segment == s if s is not None else True) & (rep_region == r if r is not None else True)
    overlap = np.flatnonzero(cover.sum(axis=0) > 1)
    if len(overlap):
        j = overlap[0]
        both = " and ".join(rows["label"][cover[:, j]])
        raise InputError(
            "targets", f"rows {both} both cover the reps of {rep_segment[j]} / {rep_region[j]}", column="segment",
            fix="Give either one target per region or one all-region target for the segment, not both",
        )
    row_of = np.where(cover.any(axis=0), cover.argmax(axis=0), -1)
    return TargetRows(rows, row_of)


def row_shares(weights: np.ndarray, g: np.ndarray, row_of: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``T_r * w_i / sum_{j in r} w_j / g_j``; 0 for reps without a row or in a row whose weights are all 0."""
    n_rows = len(target)
    valid = row_of >= 0
    denominator = np.bincount(row_of[valid], weights=(weights / g)[valid], minlength=n_rows)
    out = np.zeros(len(weights))
    ok = valid & (denominator[np.where(valid, row_of, 0)] > 0)
    out[ok] = target[row_of[ok]] * weights[ok] / denominator[row_of[ok]]
    return out


def historical_weights(run_rate: np.ndarray, potential: np.ndarray, row_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Past bookings per day, with a stand-in for reps without history (new hires, open headcount).

    A rep without history gets its potential times the bookings-per-potential of
    the reps of its row that have history (the company's if none has), so a new
    hire is neither free of quota nor judged on someone else's book. Returns the
    weights and a mask of the reps that got the stand-in.
    """
    known = np.isfinite(run_rate) & (run_rate >= 0)
    weights = np.where(known, run_rate, 0.0)
    valid_rows = np.where(row_of >= 0, row_of, 0)
    n_rows = int(row_of.max()) + 1 if len(row_of) else 0
    rate_sum = np.bincount(valid_rows[known], weights=weights[known], minlength=n_rows)
    pot_sum = np.bincount(valid_rows[known], weights=potential[known], minlength=n_rows)
    company = weights[known].sum() / potential[known].sum() if known.any() and potential[known].sum() > 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        per_row = np.where(pot_sum > 0, rate_sum / pot_sum, company)
    stand_in = per_row[valid_rows] * potential
    weights = np.where(known, weights, np.nan_to_num(stand_in, nan=0.0))
    return weights, ~known
