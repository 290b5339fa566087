"""Backtest: would the formula have predicted the bookings that followed?

For each of the last ``periods`` periods before the snapshot, score every
account as of the day before the period started, with the model refitted on
what was known then (the score function receives only that date and must use
nothing later), and compare with the bookings of that period: won
opportunities closed in it, by account. Reported per period:

- a decile table (decile 10 = the highest potentials): accounts, potential,
  bookings, share of bookings, and lift = bookings per account of the decile
  over bookings per account overall (a useless score gives lift 1 everywhere);
- Spearman's rank correlation between potential and bookings over all accounts
  (most accounts book nothing in a quarter, so its level is modest even for a
  good score; compare runs and formulas with it rather than reading it alone).

Known limit: the customer flag and ARR are the snapshot's (the contract holds
no history of them), so an account won during the backtest period already
counts as a customer when scored before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from plan_lib.jsonable import to_jsonable
from plan_lib.scoring.params import BacktestParams


@dataclass
class BacktestResult:
    periods: (
        pd.DataFrame
    )  # one row per period: as_of, start, end, accounts, bookings, spearman, top_decile_lift, ...
    deciles: pd.DataFrame  # decile tables of every period (column `as_of`)

    @property
    def spearman(self) -> float | None:
        """Spearman of the most recent period."""
        if self.periods.empty:
            return None
        value = self.periods["spearman"].iloc[0]
        return None if pd.isna(value) else float(value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "spearman": self.spearman,
            "periods": to_jsonable(self.periods),
            "deciles": to_jsonable(self.deciles),
        }


def add_months(day: dt.date, months: int) -> dt.date:
    return (pd.Timestamp(day) + pd.DateOffset(months=months)).date()


def backtest_windows(
    as_of: dt.date, params: BacktestParams
) -> list[tuple[dt.date, dt.date, dt.date]]:
    """(score as of, period start, period end) for each backtest period, most recent first; ends never pass ``as_of``."""
    windows = []
    next_start = as_of + dt.timedelta(days=1)
    for k in range(1, params.periods + 1):
        start = add_months(next_start, -k * params.period_months)
        end = add_months(next_start, -(k - 1) * params.period_months) - dt.timedelta(days=1)
        windows.append((start - dt.timedelta(days=1), start, end))
    return windows


def bookings_between(opportunities: pd.DataFrame, start: dt.date, end: dt.date) -> pd.Series:
    """Won amount per account_id for opportunities closed from ``start`` to ``end`` (inclusive)."""
    closed = opportunities["close_date"]
    won = (
        (opportunities["stage"] == "won").fillna(False)
        & (closed >= pd.Timestamp(start)).fillna(False)
        & (closed <= pd.Timestamp(end)).fillna(False)
    )
    picked = opportunities.loc[won]
    return (
        picked["amount"]
        .astype("float64")
        .fillna(0.0)
        .groupby(picked["account_id"].astype("str"))
        .sum()
    )


def decile_table(potential: np.ndarray, bookings: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Accounts cut into deciles of potential (ties broken by order), with bookings and lift."""
    potential = np.asarray(potential, dtype=float)
    bookings = np.asarray(bookings, dtype=float)
    n = len(potential)
    rank = pd.Series(potential).rank(method="first").to_numpy()
    decile = np.ceil(rank * bins / max(n, 1)).astype(int)
    frame = pd.DataFrame(
        {"decile": decile, "potential": potential, "bookings": bookings, "booked": bookings > 0}
    )
    table = frame.groupby("decile").agg(
        accounts=("potential", "size"),
        potential=("potential", "sum"),
        bookings=("bookings", "sum"),
        accounts_booked=("booked", "sum"),
    )
    table = table.reindex(range(bins, 0, -1), fill_value=0).reset_index()
    total_bookings = bookings.sum()
    mean_per_account = total_bookings / n if n else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        table["bookings_share"] = table["bookings"] / total_bookings if total_bookings else np.nan
        table["lift"] = (
            (table["bookings"] / table["accounts"]) / mean_per_account
            if mean_per_account
            else np.nan
        )
    table["cumulative_bookings_share"] = table["bookings_share"].cumsum()
    return table


def run_backtest(
    score_as_of: Callable[[dt.date], tuple[pd.DataFrame, dict[str, Any]]],
    opportunities: pd.DataFrame,
    as_of: dt.date,
    params: BacktestParams,
) -> BacktestResult:
    """Backtest every window; ``score_as_of(day)`` returns (scores, model report) using data up to ``day`` only."""
    rows, tables = [], []
    for scored_as_of, start, end in backtest_windows(as_of, params):
        scores, report = score_as_of(scored_as_of)
        booked = bookings_between(opportunities, start, end)
        bookings = booked.reindex(scores["account_id"].astype("str")).fillna(0.0).to_numpy()
        potential = scores["potential"].to_numpy(float)
        table = decile_table(potential, bookings)
        spearman = None
        if len(potential) > 1 and bookings.std() > 0 and potential.std() > 0:
            spearman = float(spearmanr(potential, bookings).statistic)
        rows.append(
            {
                "as_of": scored_as_of,
                "start": start,
                "end": end,
                "accounts": len(scores),
                "accounts_booked": int((bookings > 0).sum()),
                "bookings": float(bookings.sum()),
                "spearman": spearman,
                "top_decile_lift": float(table["lift"].iloc[0]) if len(table) else np.nan,
                "top_3_deciles_share": float(table["bookings_share"].head(3).sum())
                if bookings.sum()
                else np.nan,
                "model_fallback": bool(report.get("fallback")),
                "model_auc_holdout": report.get("auc_holdout"),
            }
        )
        tables.append(table.assign(as_of=scored_as_of))
    deciles = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    return BacktestResult(pd.DataFrame(rows), deciles)
