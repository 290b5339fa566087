"""Figures of the quota step. Each returns a ``matplotlib.figure.Figure`` built
without pyplot (no global state, safe in notebooks, tests and worker threads);
the caller saves or displays it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

_COLORS = ["#2a5c9a", "#c0504d", "#3b8f4a", "#8064a2", "#f79646", "#4bacc6", "#7f7f7f"]


def quota_vs_potential(quotas: pd.DataFrame) -> Figure:
    """Left: quota against book potential per rep, one colour per segment, with each segment's median
    ratio as a line through the origin. Right: quota / potential per rep by segment; a flat band is a fair
    plan, outliers are capped, floored, ramping or adjusted reps (hollow markers)."""
    fig = Figure(figsize=(13, 5.2))
    left, right = fig.subplots(1, 2)
    data = quotas[quotas["potential"] > 0].copy()
    data["ratio"] = data["quota"] / data["potential"]
    special = data["cap_binding"] | data["floor_binding"] | data["adjusted"] | (data["ramp_factor"] < 1)
    segments = sorted(data["segment"].fillna("(none)").unique())
    for k, segment in enumerate(segments):
        color = _COLORS[k % len(_COLORS)]
        mine = data[data["segment"].fillna("(none)") == segment]
        plain = mine[~special.loc[mine.index]]
        odd = mine[special.loc[mine.index]]
        left.scatter(plain["potential"], plain["quota"], s=12, color=color, alpha=0.7, label=segment)
        left.scatter(odd["potential"], odd["quota"], s=18, facecolors="none", edgecolors=color)
        ratio = float(mine["ratio"].median())
        xmax = float(mine["potential"].max())
        left.plot([0, xmax], [0, ratio * xmax], color=color, linewidth=1)
        jitter = np.random.default_rng(k).uniform(-0.25, 0.25, len(mine))
        right.scatter(k + jitter[~special.loc[mine.index].to_numpy()], plain["ratio"], s=10, color=color, alpha=0.7)
        right.scatter(k + jitter[special.loc[mine.index].to_numpy()], odd["ratio"], s=16, facecolors="none", edgecolors=color)
    left.set_xlabel("book potential")
    left.set_ylabel("quota")
    left.set_title("Quota against potential (line: segment median ratio)")
    if segments:
        left.legend(loc="upper left", fontsize=8)
    right.set_xticks(range(len(segments)), segments)
    right.set_ylabel("quota / potential")
    right.set_title("Quota / potential per rep (hollow: cap, floor, ramp or adjusted)")
    fig.tight_layout()
    return fig


def rollup_by_level(rollup: pd.DataFrame) -> Figure:
    """Left: total quota at each level of the hierarchy, the company target as a dashed line, and the step
    from each level to the one above (the over-assignment). Right: each node's over-assignment (sum of its
    children / its own quota) by level: a single value per level means the convention holds everywhere."""
    fig = Figure(figsize=(13, 5.2))
    left, right = fig.subplots(1, 2)
    levels = sorted(rollup["level"].unique())
    names = []
    for level in levels:
        roles = rollup.loc[rollup["level"] == level, "role"].fillna("")
        names.append(f"{level}: " + "/".join(sorted(set(roles) - {""})))
    quota = np.array([rollup.loc[rollup["level"] == lv, "quota"].sum() for lv in levels])
    leaves = rollup["n_children"] == 0
    x = np.arange(len(levels))
    left.bar(x, quota, width=0.6, color="#2a5c9a")
    for k in range(len(levels)):
        step = f"\nx{quota[k] / quota[k - 1]:.3f}" if k and quota[k - 1] > 0 else ""
        left.text(x[k], quota[k], f"{quota[k]:,.0f}{step}", ha="center", va="bottom", fontsize=8)
    target = rollup["target"].dropna().sum() if "target" in rollup else np.nan
    if np.isfinite(target) and target > 0:
        left.axhline(target, color="#c0504d", linestyle="--", linewidth=1, label="company target")
        left.legend(loc="lower right")
    left.set_xticks(x, names, rotation=15)
    left.set_ylim(0, quota.max() * 1.18 if len(quota) and quota.max() > 0 else 1)
    left.set_title("Total quota by level (x: over-assignment vs the level above)")
    values = [rollup.loc[(rollup["level"] == lv) & ~leaves, "over_assignment"].dropna().to_numpy() for lv in levels]
    shown = [(k, v) for k, v in enumerate(values) if len(v)]
    if shown:
        right.boxplot([v for _, v in shown], positions=[k for k, _ in shown], widths=0.5)
        right.set_xticks([k for k, _ in shown], [names[k] for k, _ in shown], rotation=15)
    right.set_title("Over-assignment per node (sum of children / own quota)")
    right.set_ylabel("ratio")
    fig.tight_layout()
    return fig
