"""Figures of the monitoring step. Each returns a ``matplotlib.figure.Figure`` built without pyplot
(no global state: safe in notebooks, tests, worker threads and the Voila dashboard); the caller
saves or displays it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from plan_lib.quotas.capacity import money

_BLUE, _RED, _GREEN, _GREY = "#2a5c9a", "#c0504d", "#3b8f4a", "#7f7f7f"


def attainment_distribution(attainment: pd.DataFrame, forecast: pd.DataFrame | None = None, level: str = "rep") -> Figure:
    """Left: attainment to date per unit of ``level``, with the expected share by now and the share of
    units on track. Right (with a forecast): period-end attainment forecast, with the 100% line and the
    share of units expected to reach quota."""
    rows = attainment[(attainment["level"] == level) & (attainment["quota"] > 0)]
    panels = 2 if forecast is not None and len(forecast) else 1
    fig = Figure(figsize=(6.5 * panels, 4.6))
    axes = np.atleast_1d(fig.subplots(1, panels))
    ax = axes[0]
    values = rows["attainment"].to_numpy(dtype=float)
    if len(values):
        bins = np.linspace(0, max(1.0, float(np.nanmax(values)) * 1.05), 30)
        on = rows["on_track"].to_numpy(dtype=bool)
        ax.hist([values[on], values[~on]], bins=bins, stacked=True, color=[_GREEN, _RED], label=["on track", "behind"])
        expected = float(np.nanmedian(rows["expected_share"]))
        ax.axvline(expected, color="black", linestyle="--", linewidth=1)
        ax.text(expected, ax.get_ylim()[1] * 0.95, f" expected by now {expected:.0%}", va="top", fontsize=8)
        ax.legend(loc="upper right", fontsize=8)
        ax.set_title(f"Attainment to date per {level}: {on.mean():.0%} of {len(rows)} on track")
    else:
        ax.set_title(f"No {level} with a quota")
    ax.set_xlabel("bookings to date / quota")
    ax.set_ylabel(f"{level}s")
    if panels == 2:
        ax = axes[1]
        assert forecast is not None
        fc_rows = forecast[(forecast["level"] == level) & (forecast["quota"] > 0)]
        values = fc_rows["attainment_forecast"].to_numpy(dtype=float)
        if len(values):
            bins = np.linspace(0, max(1.5, float(np.nanmax(values)) * 1.05), 30)
            ax.hist(values, bins=bins, color=_BLUE)
            ax.axvline(1.0, color="black", linestyle="--", linewidth=1)
            reach = float(np.nanmean(fc_rows["prob_reach_quota"]))
            ax.set_title(f"Forecast period-end attainment: {(values >= 1).mean():.0%} above quota "
                         f"(mean P(reach) {reach:.0%})")
        ax.set_xlabel("forecast bookings at period end / quota")
        ax.set_ylabel(f"{level}s")
    fig.tight_layout()
    return fig


def trend_lines(weekly: pd.DataFrame, forecast: pd.DataFrame, units: list[tuple[str, str]], columns: int = 3) -> Figure:
    """One panel per (level, unit_id): weekly bookings (bars) and the model's one-step prediction; on the
    right axis the period's cumulative bookings, the forecast with its band, and the quota."""
    n = max(len(units), 1)
    cols = min(columns, n)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(5.2 * cols, 3.6 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    fc = {(r["level"], r["unit_id"]): r for r in forecast.to_dict("records")}
    legend: tuple[list, list] = ([], [])
    for ax, (level, unit) in zip(axes, units, strict=False):
        data = weekly[(weekly["level"] == level) & (weekly["unit_id"] == unit)]
        seen = data[data["phase"] == "observed"]
        ahead = data[data["phase"] == "forecast"]
        ax.bar(seen["week_end"], seen["bookings"], width=5, color="#9db4d3", label="weekly bookings")
        ax.plot(seen["week_end"], seen["fitted"], color=_BLUE, linewidth=1, label="model (one step ahead)")
        ax.set_ylabel("weekly", fontsize=8)
        right = ax.twinx()
        period = seen[seen["cumulative"] > 0]
        right.plot(period["week_end"], period["cumulative"], color="black", linewidth=1.5, label="period to date")
        if len(ahead):
            start = seen.iloc[[-1]] if len(seen) else ahead.iloc[[0]]
            x = pd.concat([start["week_end"], ahead["week_end"]])
            right.plot(x, np.r_[start["cumulative"].to_numpy(), ahead["cumulative"].to_numpy()], color=_RED, linestyle="--",
                       label="forecast")
            right.fill_between(ahead["week_end"], ahead["cumulative_lower"], ahead["cumulative_upper"], color=_RED, alpha=0.2,
                               label="forecast interval")
        title = f"{level} {unit}"
        row = fc.get((level, unit))
        if row is not None:
            if row["quota"] > 0:
                right.axhline(row["quota"], color=_GREEN, linewidth=1, label="quota")
                title += f": {row['attainment_forecast']:.0%} forecast, P(quota) {row['prob_reach_quota']:.0%}"
            if row.get("trend", ""):
                title += f", trend {row['trend']}"
        right.set_ylabel("cumulative", fontsize=8)
        right.yaxis.set_major_formatter(lambda v, _: money(v))
        ax.yaxis.set_major_formatter(lambda v, _: money(v))
        ax.set_title(title, fontsize=9)
        ax.tick_params(axis="x", labelsize=7, rotation=30)
        if not legend[0]:
            for part in (ax, right):
                h, lab = part.get_legend_handles_labels()
                legend[0].extend(h)
                legend[1].extend(lab)
    for ax in axes[len(units):]:
        ax.set_visible(False)
    if legend[0]:
        fig.legend(legend[0], legend[1], loc="lower center", ncol=min(len(legend[1]), 6), fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def watch_list(forecast: pd.DataFrame, level: str = "rep", n: int = 6) -> list[tuple[str, str]]:
    """Units worth a trend chart: the significant trend changes first, then the least likely to reach quota."""
    rows = forecast[forecast["level"] == level].copy()
    rows["_flagged"] = rows["trend"].astype(str) != ""
    rows = rows.sort_values(["_flagged", "prob_reach_quota", "unit_id"], ascending=[False, True, True])
    return [(level, str(u)) for u in rows["unit_id"].head(n)]
