"""Charts of the balancing step: each rep's deviation against the band, before and after,
and what moved (matplotlib Figures, built without pyplot so notebooks and tests share them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def plot_balance(books: pd.DataFrame, tau: float, path: Path | str | None = None) -> Figure:
    """Per segment: deviation of potential per FTE from the segment mean, last period (grey) vs plan (blue), with the +/-tau band."""
    carrying = books[books["carries_book"]] if "carries_book" in books else books
    segments = sorted(carrying["segment"].dropna().unique())
    fig = Figure(figsize=(13, 3.4 * max(1, len(segments))))
    axes = fig.subplots(max(1, len(segments)), 1, squeeze=False)[:, 0]
    for ax, segment in zip(axes, segments, strict=False):
        rows = carrying[carrying["segment"] == segment].sort_values("deviation")
        x = np.arange(len(rows))
        if "deviation_before" in rows:
            ax.scatter(
                x,
                100 * rows["deviation_before"].fillna(np.nan),
                s=14,
                color="#9aa5b1",
                label="last period's books",
            )
        ax.scatter(x, 100 * rows["deviation"], s=18, color="#2a5c9a", label="plan")
        ax.axhspan(-100 * tau, 100 * tau, color="#3b8f4a", alpha=0.15, label=f"band +/-{tau:.0%}")
        ax.axhline(0, color="#3b8f4a", linewidth=0.8)
        inside = (rows["deviation"].abs() <= tau + 1e-9).mean()
        ax.set_title(
            f"{segment}: {len(rows)} books, {inside:.0%} inside the band; max |deviation| {rows['deviation'].abs().max():.1%}"
        )
        ax.set_ylabel("potential per FTE vs segment mean (%)")
        ax.set_xticks([])
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def moves_summary(assignments: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Accounts and potential by move reason and segment (what moved, and why)."""
    frame = assignments.merge(
        accounts[["account_id", "potential", "current_arr"]], on="account_id", how="left"
    )
    table = frame.groupby(["segment", "reason"], dropna=False).agg(
        accounts=("account_id", "size"), potential=("potential", "sum"), arr=("current_arr", "sum")
    )
    table["share_of_accounts"] = table["accounts"] / table.groupby(level=0)["accounts"].transform(
        "sum"
    )
    return table.reset_index()
