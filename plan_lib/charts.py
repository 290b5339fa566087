"""Charts of the inputs for the ingest notebook (matplotlib, saved as PNG in the run)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def plot_inputs(tables: dict[str, pd.DataFrame], path: Path | None = None) -> Figure:
    """Four panels: accounts by industry, employees (log), opportunities per quarter by stage, account locations."""
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    accounts = tables["accounts"]
    ax = axes[0, 0]
    counts = accounts["industry"].fillna("(none)").value_counts().sort_values()
    customers = accounts.groupby(accounts["industry"].fillna("(none)"))["is_customer"].sum().reindex(counts.index)
    ax.barh(counts.index, counts.to_numpy(), color="#9db4d3", label="accounts")
    ax.barh(customers.index, customers.to_numpy(dtype=float), color="#2a5c9a", label="customers")
    ax.set_title("Accounts by industry")
    ax.legend(loc="lower right")
    ax = axes[0, 1]
    employees = accounts["employees"].dropna().astype(float)
    if len(employees):
        bins = np.logspace(0, np.log10(max(employees.max(), 10)) + 0.1, 40)
        ax.hist(employees.clip(lower=1), bins=bins, color="#2a5c9a")
        ax.set_xscale("log")
    ax.set_title("Employees per account (log scale: heavy tail)")
    ax.set_xlabel("employees")
    ax = axes[1, 0]
    opportunities = tables.get("opportunities")
    if opportunities is not None and len(opportunities):
        quarter = opportunities["created_date"].dt.to_period("Q").astype(str)
        pivot = pd.crosstab(quarter, opportunities["stage"])
        pivot.plot(kind="bar", stacked=True, ax=ax, color={"won": "#3b8f4a", "lost": "#c0504d", "open": "#9aa5b1"}, width=0.85)
        ax.set_xlabel("quarter created")
    ax.set_title("Opportunities per quarter by stage")
    ax = axes[1, 1]
    located = accounts.dropna(subset=["lat", "lon"])
    colors = np.where(located["is_customer"].fillna(False).to_numpy(dtype=bool), "#c0504d", "#2a5c9a")
    ax.scatter(located["lon"], located["lat"], s=2, c=colors, alpha=0.4, linewidths=0)
    ax.set_title(f"Account locations ({len(located):,} of {len(accounts):,}; red = customers)")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
