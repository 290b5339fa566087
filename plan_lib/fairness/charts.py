"""Charts of the fairness analysis (matplotlib Figures built without pyplot, embedded in the report).

- ``criteria_chart``: every criterion's value as a share of its fail threshold,
  draft against refined plan (1.0 = the fail line), so one picture says where the
  plan stands and whether the managers' edits helped.
- ``distribution_chart``: per criterion measured per rep, each rep's deviation
  from its group, draft (grey) against refined (coloured by status), with the bands.
- ``lorenz_chart``: Lorenz curves of potential over FTE per segment, draft against
  refined, with the Gini coefficients.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from plan_lib.fairness.criteria import FAIL, PASS, WARN, FairnessResult
from plan_lib.fairness.measures import gini, lorenz_curve
from plan_lib.fairness.params import FairnessParams

COLOURS = {PASS: "#3b8f4a", WARN: "#d99a1e", FAIL: "#c0504d", "n/a": "#9aa5b1"}
DRAFT = "#9aa5b1"
BAND_AGGREGATES = ("max_rel_dev", "max_abs_dev")


def _limit_ratio(value: float, limit: float | None, below: bool) -> float:
    if limit is None or not np.isfinite(value) or limit == 0:
        return float("nan")
    return limit / value if below and value > 0 else value / limit


def criteria_chart(draft: FairnessResult, refined: FairnessResult, params: FairnessParams) -> Figure:
    """Horizontal bars: value / fail threshold (warn when there is no fail), draft vs refined."""
    criteria = params.active
    fig = Figure(figsize=(11, 0.55 * len(criteria) + 1.6))
    ax = fig.subplots()
    draft_values = draft.criteria.set_index("name")["value"]
    rows = refined.criteria.set_index("name")
    y = np.arange(len(criteria))[::-1]
    for k, criterion in zip(y, criteria, strict=True):
        limit = criterion.fail if criterion.fail is not None else criterion.warn
        before = _limit_ratio(float(draft_values.get(criterion.name, np.nan)), limit, criterion.below)
        after = _limit_ratio(float(rows.at[criterion.name, "value"]), limit, criterion.below)
        ax.barh(k + 0.18, np.nan_to_num(before), height=0.34, color=DRAFT, label="draft" if k == y[0] else None)
        ax.barh(k - 0.18, np.nan_to_num(after), height=0.34, color=COLOURS[rows.at[criterion.name, "status"]],
                label="refined plan" if k == y[0] else None)
    ax.axvline(1.0, color=COLOURS[FAIL], linestyle="--", linewidth=1, label="fail threshold (warn if no fail)")
    ax.set_yticks(y)
    ax.set_yticklabels([c.name for c in criteria])
    ax.set_xlabel("value / threshold (bars beyond 1 break the criterion)")
    ax.set_title("Each criterion against its threshold: draft (grey) and refined plan (coloured by status)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def distribution_chart(draft: FairnessResult, refined: FairnessResult, params: FairnessParams) -> Figure | None:
    """One panel per per-rep criterion: each rep's deviation from its group reference, by group."""
    # Gini is drawn as Lorenz curves (lorenz_chart); max/min have no group reference to deviate from
    criteria = [c for c in params.active if c.per == "rep" and c.aggregate in (*BAND_AGGREGATES, "cv")]
    if not criteria:
        return None
    columns = 2 if len(criteria) > 1 else 1
    rows_n = int(np.ceil(len(criteria) / columns))
    fig = Figure(figsize=(6.5 * columns, 3.4 * rows_n))
    axes = np.atleast_1d(fig.subplots(rows_n, columns, squeeze=False)).ravel()
    for ax, criterion in zip(axes, criteria, strict=False):
        after = refined.reps[refined.reps["criterion"] == criterion.name]
        before = draft.reps[draft.reps["criterion"] == criterion.name]
        groups = sorted(set(after["group"]) | set(before["group"]))
        scale = 1.0 if criterion.aggregate == "max_abs_dev" else 100.0
        for g, group in enumerate(groups):
            b = before.loc[before["group"] == group, "deviation"].to_numpy(float) * scale
            a = after[after["group"] == group]
            jitter = np.linspace(-0.12, 0.12, max(len(b), 1))[: len(b)]
            ax.scatter(g - 0.2 + jitter, b, s=12, color=DRAFT, label="draft" if g == 0 else None)
            jitter = np.linspace(-0.12, 0.12, max(len(a), 1))[: len(a)]
            ax.scatter(g + 0.2 + jitter, a["deviation"].to_numpy(float) * scale, s=14,
                       color=[COLOURS.get(s, DRAFT) for s in a["status"]], label="refined" if g == 0 else None)
        if criterion.aggregate in BAND_AGGREGATES:
            for limit, style in ((criterion.warn, ":"), (criterion.fail, "--")):
                if limit is not None:
                    ax.axhspan(-limit * scale, limit * scale, color=COLOURS[PASS], alpha=0.06)
                    ax.axhline(limit * scale, color=COLOURS[FAIL if style == "--" else WARN], linestyle=style, linewidth=1)
                    ax.axhline(-limit * scale, color=COLOURS[FAIL if style == "--" else WARN], linestyle=style, linewidth=1)
        ax.axhline(0, color="#555555", linewidth=0.6)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(groups, fontsize=8)
        ax.set_ylabel("difference from group mean" if scale == 1.0 else "% from group mean")
        status = refined.criteria.set_index("name").at[criterion.name, "status"]
        ax.set_title(f"{criterion.name} ({status})", fontsize=10, color=COLOURS.get(status, "#000000"))
        ax.legend(loc="upper right", fontsize=7)
    for ax in axes[len(criteria):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def lorenz_chart(draft_reps: pd.DataFrame, refined_reps: pd.DataFrame, column: str = "potential_per_fte") -> Figure:
    """Per segment: cumulative share of FTE (poorest books first) against cumulative share of potential."""
    refined_reps = refined_reps[refined_reps["carries_book"].astype(bool)]
    draft_reps = draft_reps[draft_reps["carries_book"].astype(bool)]
    segments = sorted(refined_reps["segment"].dropna().unique()) or ["(none)"]
    fig = Figure(figsize=(4.2 * len(segments), 4.2))
    axes = np.atleast_1d(fig.subplots(1, len(segments), squeeze=False)).ravel()
    for ax, segment in zip(axes, segments, strict=True):
        ax.plot([0, 1], [0, 1], color="#555555", linewidth=0.8, label="perfect equality")
        for frame, colour, style, name in ((draft_reps, DRAFT, "--", "draft"), (refined_reps, "#2a5c9a", "-", "refined")):
            rows = frame[frame["segment"] == segment]
            x, w = rows[column].to_numpy(float), rows["fte"].to_numpy(float)
            share_w, share_x = lorenz_curve(x, w)
            ax.plot(share_w, share_x, color=colour, linestyle=style, label=f"{name} (Gini {gini(x, w):.3f})")
        ax.set_title(f"{segment}: potential across FTE", fontsize=10)
        ax.set_xlabel("cumulative share of FTE")
        ax.set_ylabel("cumulative share of potential")
        ax.legend(loc="upper left", fontsize=8)
        ax.set_aspect("equal")
    fig.tight_layout()
    return fig
