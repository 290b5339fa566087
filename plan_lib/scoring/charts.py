"""Figures of the scoring step (matplotlib), saved as PNG in the run folder by the notebook.

Figures are built on ``matplotlib.figure.Figure`` directly, not through pyplot,
so that a long session drawing many of them does not accumulate open figures.
Each function returns the figure and saves it when given a path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from plan_lib.scoring.explain import ScoreComparison
from plan_lib.scoring.potential import COMPONENTS

UP, DOWN, NEUTRAL, TOTAL = "#3b8f4a", "#c0504d", "#9aa5b1", "#2a5c9a"


def _done(fig: Figure, path: Path | str | None) -> Figure:
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def plot_coefficients(coefficients: pd.DataFrame, path: Path | str | None = None) -> Figure:
    """Logit coefficients with 95% intervals (the intercept left out: it sets the level, not the ranking)."""
    table = coefficients[coefficients["term"] != "Intercept"].iloc[::-1]
    fig = Figure(figsize=(8, 0.35 * len(table) + 1.5))
    ax = fig.subplots()
    y = np.arange(len(table))
    has_ci = table["ci_low"].notna().to_numpy()
    err = np.vstack([table["coef"] - table["ci_low"], table["ci_high"] - table["coef"]]).astype(
        float
    )
    err[:, ~has_ci] = 0.0
    ax.errorbar(table["coef"], y, xerr=err, fmt="o", color=TOTAL, ecolor=NEUTRAL, capsize=3)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, table["term"])
    ax.set_xlabel("effect on the log-odds of winning (95% interval)")
    ax.set_title(
        "Propensity model coefficients" + ("" if has_ci.any() else " (prior: no intervals)")
    )
    return _done(fig, path)


def plot_calibration(calibration: pd.DataFrame, path: Path | str | None = None) -> Figure:
    """Observed win rate (with 95% interval) against the mean predicted probability per decile."""
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    err = np.vstack(
        [
            calibration["observed_rate"] - calibration["observed_low"],
            calibration["observed_high"] - calibration["observed_rate"],
        ]
    ).astype(float)
    ax.errorbar(
        calibration["mean_predicted"],
        calibration["observed_rate"],
        yerr=err,
        fmt="o",
        color=TOTAL,
        capsize=3,
    )
    top = (
        float(max(calibration["mean_predicted"].max(), calibration["observed_high"].max(), 0.05))
        * 1.05
        if len(calibration)
        else 1.0
    )
    ax.plot([0, top], [0, top], linestyle="--", color=NEUTRAL, label="perfect calibration")
    ax.set_xlabel("mean predicted win probability")
    ax.set_ylabel("observed win rate")
    ax.set_title("Calibration by decile (holdout)")
    ax.legend(loc="upper left")
    return _done(fig, path)


def plot_lift(deciles: pd.DataFrame, path: Path | str | None = None) -> Figure:
    """Backtest: lift per potential decile and the cumulative share of bookings (most recent period)."""
    table = deciles
    if "as_of" in deciles and len(deciles):
        table = deciles[deciles["as_of"] == deciles["as_of"].max()]
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    labels = [str(d) for d in table["decile"]]
    ax.bar(labels, table["lift"], color=TOTAL)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("potential decile (10 = highest)")
    ax.set_ylabel("lift: bookings per account / average")
    twin = ax.twinx()
    twin.plot(labels, table["cumulative_bookings_share"], color=UP, marker="o")
    twin.set_ylim(0, 1.05)
    twin.set_ylabel("cumulative share of bookings", color=UP)
    when = f" (scored as of {table['as_of'].iloc[0]})" if "as_of" in table and len(table) else ""
    ax.set_title("Backtest: next-period bookings by potential decile" + when)
    return _done(fig, path)


def plot_contributions(
    scores: pd.DataFrame, account_id: str, path: Path | str | None = None
) -> Figure:
    """Waterfall of one account's potential: base, then each component's contribution, then the total."""
    match = scores.loc[scores["account_id"] == account_id]
    if match.empty:
        raise KeyError(f"account '{account_id}' is not in the scores")
    row: dict[str, Any] = {str(k): v for k, v in match.iloc[0].to_dict().items()}
    steps = [float(row[f"contrib_{c}"]) for c in COMPONENTS]
    starts = np.r_[0.0, np.cumsum(steps)[:-1]]  # each bar starts where the previous ended
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    colors = [NEUTRAL] + [UP if s >= 0 else DOWN for s in steps[1:]]
    ax.bar(list(COMPONENTS), steps, bottom=starts, color=colors)
    ax.bar(["potential"], [float(row["potential"])], color=TOTAL)
    for i, value in enumerate([*steps, float(row["potential"])]):
        top = (starts[i] + max(value, 0)) if i < len(steps) else max(value, 0)
        ax.annotate(f"{value:,.0f}", (i, top), ha="center", va="bottom", fontsize=8)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("currency per year")
    ax.set_title(f"Potential of {account_id} ({row['segment']}): contributions")
    return _done(fig, path)


def plot_risers_fallers(comparison: ScoreComparison, path: Path | str | None = None) -> Figure:
    """Biggest changes of potential against the previous run, labelled with the component that moved them."""
    moved = pd.concat([comparison.risers, comparison.fallers.iloc[::-1]], ignore_index=True).iloc[
        ::-1
    ]
    fig = Figure(figsize=(8, 0.35 * len(moved) + 1.5))
    ax = fig.subplots()
    if len(moved):
        labels = [
            f"{a} ({d})"
            for a, d in zip(moved["account_id"], moved["driver"].fillna("?"), strict=True)
        ]
        ax.barh(labels, moved["change"], color=[UP if c > 0 else DOWN for c in moved["change"]])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("change of potential (currency per year)")
    rho = "n/a" if comparison.spearman is None else f"{comparison.spearman:.3f}"
    ax.set_title(
        f"Risers and fallers vs previous run (rank correlation {rho}); (component that moved most)"
    )
    return _done(fig, path)
