"""Bottom-up capacity check: can the headcount deliver the target?

Per target row (segment x region)::

    capacity  = sum_i fte_i x ramp_i x days x productivity
    productivity = past bookings / past (fte x ramp x days)       (per fully ramped FTE-day)

pooled over the row's current reps' past periods (the company's when the row
has fewer than ``capacity_min_observations`` rep-periods). The gap is target -
capacity; the fully ramped FTE that would close it is ``gap / (productivity x
days)``, and the hires starting on the first day of the period it would take is
that divided by a new hire's ramp factor for the period.

Expected share of reps at quota: each past rep-period gives a performance
ratio ``e = bookings / (productivity x fte x ramp x days)`` (how far a rep lands
from what headcount and ramp predict: the spread of attainment around
potential). A rep reaches quota when ``e >= quota_i / expected_i``; the share is
that probability averaged over the row's reps with a quota.

``fte`` is read as contracted working time; if a roster already lowers
``capacity_fte`` for ramping reps, use ``ramp: [1.0]`` to avoid counting ramp twice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from plan_lib.quotas.history import History


def money(value: float) -> str:
    """Compact currency figure for sentences: 4.2M, 350k."""
    if not np.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:,.2f}M"
    if magnitude >= 1e3:
        return f"{value / 1e3:,.0f}k"
    return f"{value:,.0f}"


def capacity_check(
    rows: pd.DataFrame,
    reps: pd.DataFrame,
    history: History,
    rep_row: pd.Series,
    period_days: int,
    new_hire_ramp: float,
    min_observations: int,
) -> pd.DataFrame:
    """One line per target row.

    ``rows``: segment, region, target, label. ``reps``: rep_id, row, fte, ramp_factor,
    quota for the plan's book-carrying reps. ``rep_row``: rep_id -> row index for
    every rep whose history may count (current row of the person).
    """
    obs = history.observations.dropna(subset=["bookings"]).copy()
    obs["row"] = obs["rep_id"].map(rep_row).astype(float)
    fte_of = reps.set_index("rep_id")["fte"]
    obs["fte"] = obs["rep_id"].map(fte_of).astype(float).fillna(1.0)
    obs["exposure"] = obs["fte"] * obs["ramp"] * obs["days"]
    obs = obs[obs["exposure"] > 0]
    company = obs["bookings"].sum() / obs["exposure"].sum() if len(obs) else np.nan
    by_row = obs.dropna(subset=["row"]).groupby("row").agg(bookings=("bookings", "sum"), exposure=("exposure", "sum"),
                                                            n=("bookings", "size"))
    productivity = np.full(len(rows), company)
    own = np.zeros(len(rows), dtype=bool)
    for k, (booked, exposure, n) in zip(by_row.index, by_row.itertuples(index=False), strict=True):
        if 0 <= k < len(rows) and n >= min_observations and exposure > 0:
            productivity[int(k)] = booked / exposure
            own[int(k)] = True
    row_prod = obs["row"].map(lambda r: productivity[int(r)] if pd.notna(r) else company)
    performance = np.sort((obs["bookings"] / (row_prod * obs["exposure"])).dropna().to_numpy())

    out = []
    for k, row in enumerate(rows.to_dict("records")):
        mine = reps[reps["row"] == k]
        ramped_fte = float((mine["fte"] * mine["ramp_factor"]).sum())
        headcount = int((mine["ramp_factor"] > 0).sum())
        prod = productivity[k]
        capacity = ramped_fte * period_days * prod
        gap = row["target"] - capacity
        per_fte = prod * period_days
        fte_needed = max(gap, 0.0) / per_fte if per_fte > 0 else np.nan
        hires = fte_needed / new_hire_ramp if new_hire_ramp > 0 else np.nan
        share = np.nan
        with_quota = mine[mine["quota"] > 0]
        if len(performance) and len(with_quota) and np.isfinite(prod) and prod > 0:
            expected = with_quota["fte"] * with_quota["ramp_factor"] * period_days * prod
            need = (with_quota["quota"] / expected.where(expected > 0)).to_numpy()
            reach = 1.0 - np.searchsorted(performance, need, side="left") / len(performance)
            share = float(np.nanmean(np.where(np.isfinite(need), reach, 0.0)))
        achievable = bool(capacity >= row["target"]) if np.isfinite(capacity) else pd.NA
        source = "own history" if own[k] else ("company history" if np.isfinite(prod) else "none")
        out.append({
            "segment": row["segment"], "region": row["region"], "target": float(row["target"]),
            "headcount": headcount, "ramped_fte": ramped_fte,
            "productivity_per_fte": per_fte, "productivity_source": source,
            "capacity": capacity, "gap": gap,
            "coverage": capacity / row["target"] if row["target"] > 0 else np.nan,
            "ramped_fte_needed": fte_needed, "hires_needed_at_start": hires,
            "expected_share_at_quota": share, "achievable": achievable,
            "sentence": _sentence(row["label"], row["target"], capacity, headcount, fte_needed, hires, share, new_hire_ramp),
        })
    frame = pd.DataFrame(out)
    return frame.astype({"segment": "str", "region": "str", "productivity_source": "str", "sentence": "str",
                         "achievable": "boolean"})


def _sentence(label: str, target: float, capacity: float, headcount: int, fte_needed: float, hires: float,
              share: float, new_hire_ramp: float) -> str:
    if not np.isfinite(capacity):
        return f"{label}: no bookings history, so capacity against the {money(target)} target cannot be checked."
    at_quota = f" About {share:.0%} of reps are expected to reach quota." if np.isfinite(share) else ""
    if capacity >= target:
        return (f"{label}: {headcount} reps can deliver about {money(capacity)} against a target of "
                f"{money(target)} ({capacity / target:.0%}); achievable with the current headcount.{at_quota}")
    coverage = f" ({capacity / target:.0%})" if target > 0 else ""
    return (f"{label}: not achievable with the current headcount. {headcount} reps can deliver about "
            f"{money(capacity)} against a target of {money(target)}{coverage}; {fte_needed:.1f} fully ramped FTE "
            f"would close the {money(target - capacity)} gap (about {np.ceil(hires - 1e-9):.0f} hires starting on the "
            f"first day of the period, ramping at {new_hire_ramp:.0%}).{at_quota}")
