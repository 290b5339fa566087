"""Flags: units off track, short of pipeline, or whose trend changed, each with a sentence that says why.

One row per (unit, flag). Kinds:

- ``off_track``: pacing below ``flags.off_track_pacing`` or a forecast probability of
  reaching quota below ``flags.off_track_probability`` (not before
  ``flags.min_elapsed_share`` of the period: the first days say nothing).
- ``low_coverage``: open pipeline x win rate below ``flags.low_coverage`` times the
  remaining quota.
- ``trend_up`` / ``trend_down``: a significant change of the weekly bookings rate
  since the period started (``detail`` = level) or within it (``detail`` = slope),
  with the test statistics (see ``plan_lib.monitor.trends``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from plan_lib.monitor.params import MonitorParams
from plan_lib.quotas.capacity import money

COLUMNS = ["level", "unit_id", "flag", "detail", "direction", "value", "threshold", "p_value", "q_value", "message"]


def unit_flags(attainment: pd.DataFrame, forecast: pd.DataFrame, params: MonitorParams, elapsed: float) -> pd.DataFrame:
    """Every flag of the units of ``flags.levels`` (see the module docstring)."""
    cfg = params.flags
    rows: list[dict[str, Any]] = []
    att = attainment[attainment["level"].isin(cfg.levels)]
    fc = forecast[forecast["level"].isin(cfg.levels)] if len(forecast) else forecast
    by_unit: dict[tuple[str, str], dict[Any, Any]] = {(r["level"], r["unit_id"]): r for r in fc.to_dict("records")} if len(fc) else {}
    for row in att.to_dict("records"):
        key = (row["level"], row["unit_id"])
        where = f"{row['level']} {row['unit_id']}"
        f = by_unit.get(key)
        p = float(f["prob_reach_quota"]) if f is not None else np.nan
        if elapsed >= cfg.min_elapsed_share and row["quota"] > 0:
            pacing = float(row["pacing"])
            slow = bool(np.isfinite(pacing) and pacing < cfg.off_track_pacing)
            unlikely = bool(np.isfinite(p) and p < cfg.off_track_probability)
            if slow or unlikely:
                text = (f"{where}: {money(row['bookings'])} booked, {row['attainment']:.0%} of a {money(row['quota'])} quota "
                        f"against {row['expected_share']:.0%} expected by now (pacing {pacing:.2f}, limit {cfg.off_track_pacing:.2f})")
                if f is not None:
                    text += (f"; forecast {f['attainment_forecast']:.0%} at period end ({params.forecast.interval:.0%} interval "
                             f"{f['attainment_lower']:.0%}-{f['attainment_upper']:.0%}), P(reach quota) {p:.0%} "
                             f"(limit {cfg.off_track_probability:.0%})")
                rows.append({"level": row["level"], "unit_id": row["unit_id"], "flag": "off_track",
                             "detail": "pacing" if slow else "forecast", "direction": -1, "value": pacing if slow else p,
                             "threshold": cfg.off_track_pacing if slow else cfg.off_track_probability, "message": text})
        coverage = float(row["coverage"])
        if row["remaining_quota"] > 0 and np.isfinite(coverage) and coverage < cfg.low_coverage:
            rows.append({"level": row["level"], "unit_id": row["unit_id"], "flag": "low_coverage", "detail": "pipeline",
                         "direction": -1, "value": coverage, "threshold": cfg.low_coverage,
                         "message": f"{where}: open pipeline {money(row['open_pipeline'])} x win rate {row['win_rate']:.0%} = "
                         f"{money(row['expected_pipeline'])} covers {coverage:.2f}x the remaining quota "
                         f"{money(row['remaining_quota'])} (limit {cfg.low_coverage:.2f}x)"})
    for f in by_unit.values():
        for detail in ("level", "slope"):
            direction = f.get(f"{detail}_flag") or ""
            if not direction:
                continue
            if detail == "level":
                value, p, q, f_stat = f["level_change"], f["level_p"], f["level_q"], f["level_f"]
                what = (f"weekly bookings since the period start run {value:+.0%} against the baseline before it "
                        f"({money(f['period_weekly'])} vs {money(f['baseline_weekly'])} a week)")
                threshold = params.trend.min_level_change
            else:
                value, p, q, f_stat = f["period_slope"], f["slope_p"], f["slope_q"], f["slope_f"]
                what = f"inside the period the weekly rate {'grows' if value > 0 else 'falls'} {abs(value):.1%} a week"
                threshold = params.trend.min_weekly_slope
            rows.append({"level": f["level"], "unit_id": f["unit_id"], "flag": f"trend_{direction}", "detail": detail,
                         "direction": 1 if direction == "up" else -1, "value": value, "threshold": threshold,
                         "p_value": p, "q_value": q,
                         "message": f"{f['level']} {f['unit_id']}: {what} (quasi-Poisson F = {f_stat:.1f}, p = {p:.3g}, "
                         f"q = {q:.3g} after Benjamini-Hochberg over the {f['level']}s' tests; significant below "
                         f"{params.trend.alpha:g})"})
    return pd.DataFrame(rows, columns=COLUMNS)
