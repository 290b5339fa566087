"""Books of business and the headline measures of an assignment (any assignment: the
optimiser's, a baseline's, last year's), so the notebook, the report and the
benchmark all measure the same way.

Definitions:

- segment mean of potential per FTE = segment potential / segment FTE (FTE-weighted,
  over the reps carrying a book); ``deviation`` = a rep's potential per FTE over that
  mean, minus 1. The balanced metric is ``potential`` unless the parameters say otherwise.
- ``cv``: coefficient of variation of potential per FTE relative to the segment mean,
  pooled over segments (std of (potential per FTE / segment mean)).
- compactness: potential-weighted mean distance from accounts to their rep's home, km.
- continuity: share of the accounts (and of their potential) that had an owner and kept it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from plan_lib.balance.explain import account_distances


def books_table(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    rep_id: pd.Series,
    *,
    metric: str = "potential",
    tau: float | None = None,
) -> pd.DataFrame:
    """One row per rep of role 'rep' (carrying a book or not), measured on ``rep_id``."""
    dist = account_distances(accounts, reps, rep_id)
    frame = pd.DataFrame(
        {
            "rep_id": rep_id.to_numpy(),
            "potential": accounts["potential"].to_numpy(),
            "balance": accounts[metric].to_numpy(),
            "workload": accounts["workload"].to_numpy(),
            "customers": accounts["is_customer"].to_numpy().astype(int),
            "intent_potential": accounts["intent_potential"].to_numpy(),
            "current_arr": accounts["current_arr"].to_numpy(),
            "distance": dist,
        }
    )
    grouped = frame[frame["rep_id"] != ""].groupby("rep_id")
    agg = grouped.agg(
        potential=("potential", "sum"),
        balance=("balance", "sum"),
        workload=("workload", "sum"),
        accounts=("potential", "size"),
        customers=("customers", "sum"),
        intent_potential=("intent_potential", "sum"),
        current_arr=("current_arr", "sum"),
        mean_distance_km=("distance", "mean"),
    )
    roster = reps[reps["role"] == "rep"][
        ["rep_id", "segment", "region", "status", "capacity_fte", "carries_book"]
    ]
    books = roster.rename(columns={"capacity_fte": "fte"}).merge(
        agg, left_on="rep_id", right_index=True, how="left"
    )
    for column in (
        "potential",
        "balance",
        "workload",
        "accounts",
        "customers",
        "intent_potential",
        "current_arr",
    ):
        books[column] = books[column].fillna(0.0)
    books["accounts"] = books["accounts"].astype(int)
    books["customers"] = books["customers"].astype(int)
    carrying = books["carries_book"]
    seg = books[carrying].groupby("segment")[["balance", "fte"]].sum()
    mean = (seg["balance"] / seg["fte"]).rename("segment_mean")
    books = books.merge(mean, left_on="segment", right_index=True, how="left")
    books["potential_per_fte"] = np.where(
        books["fte"] > 0, books["potential"] / books["fte"].where(books["fte"] > 0, 1.0), np.nan
    )
    per_fte = books["balance"] / books["fte"].where(books["fte"] > 0)
    books["deviation"] = np.where(
        carrying & (books["segment_mean"] > 0), per_fte / books["segment_mean"] - 1.0, np.nan
    )
    books["customer_share"] = books["customers"] / books["accounts"].where(books["accounts"] > 0)
    if tau is not None:
        inside = (books["deviation"].abs() <= tau + 1e-6).astype("boolean")
        books["in_band"] = inside.where(carrying.astype(bool), pd.NA)
    columns = [
        "rep_id",
        "segment",
        "region",
        "status",
        "carries_book",
        "potential",
        "fte",
        "potential_per_fte",
        "deviation",
        "workload",
        "accounts",
        "customers",
        "customer_share",
        "intent_potential",
        "current_arr",
        "mean_distance_km",
    ] + (["in_band"] if tau is not None else [])
    return books[columns].sort_values(["segment", "rep_id"], kind="stable").reset_index(drop=True)


def assignment_metrics(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    rep_id: pd.Series,
    *,
    metric: str = "potential",
    tau: float = 0.03,
) -> dict[str, Any]:
    """Headline figures of an assignment (see module docstring)."""
    books = books_table(accounts, reps, rep_id, metric=metric, tau=tau)
    carrying = books[books["carries_book"]]
    dev = carrying["deviation"].dropna()
    dist = account_distances(accounts, reps, rep_id)
    p = accounts["potential"].to_numpy()
    ok = ~np.isnan(dist)
    had_owner = (accounts["current_owner"] != "").to_numpy()
    kept = (rep_id == accounts["current_owner"]).to_numpy() & had_owner
    return {
        "max_abs_deviation": float(dev.abs().max()) if len(dev) else 0.0,
        "cv": float((dev + 1.0).std(ddof=0)) if len(dev) else 0.0,
        "reps_in_band_share": float((dev.abs() <= tau + 1e-6).mean()) if len(dev) else 1.0,
        "compactness_km": float((p[ok] * dist[ok]).sum() / p[ok].sum())
        if p[ok].sum() > 0
        else float("nan"),
        "mean_distance_km": float(np.nanmean(dist)) if ok.any() else float("nan"),
        "kept_accounts_share": float(kept.sum() / max(had_owner.sum(), 1)),
        "kept_potential_share": float(p[kept].sum() / max(p[had_owner].sum(), 1e-12)),
        "unassigned": int((rep_id == "").sum()),
    }
