"""Derived planning frames: what the balancer and quota steps need, built from clean tables.

The contract tables hold facts; balancing needs a few derived columns per
account (sales region from the state, whether an opportunity is open at the
snapshot, intent-weighted potential). They are computed here, once, so the
balancer stays a pure optimisation model and the rules are testable.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from plan_lib.geo import region_of_state
from plan_lib.scoring.params import ScoringParams


def open_at(opportunities: pd.DataFrame, day: dt.date) -> pd.Series:
    """Mask of opportunities open at the end of ``day`` (created by then, not closed by then)."""
    end = pd.Timestamp(day)
    created = opportunities["created_date"] <= end
    closed = opportunities["close_date"].notna() & (opportunities["close_date"] <= end)
    return created & ~closed


def balance_accounts(tables: dict[str, pd.DataFrame], scores: pd.DataFrame, snapshot: dt.date, scoring: ScoringParams) -> pd.DataFrame:
    """One row per account with every column the balancer reads.

    - ``region``: the sales region of the account's state (``plan_lib.geo.STATE_REGION``).
    - ``has_open_opportunity``: an opportunity open at the snapshot (protection rules).
    - ``intent_potential``: potential weighted by how far the account is in market,
      ``potential x (1 - exp(-intent_score / saturation))`` in [0, potential], so books
      get a fair share of accounts that are researching the category now.
    """
    accounts = tables["accounts"]
    opportunities = tables["opportunities"]
    open_accounts = opportunities.loc[open_at(opportunities, snapshot), "account_id"].unique()
    frame = accounts.drop(columns=["segment"]).merge(
        scores[["account_id", "segment", "potential", "propensity", "intent_score", "family_id"]], on="account_id", how="left", validate="one_to_one"
    )
    frame["region"] = region_of_state(frame["state"])
    frame["has_open_opportunity"] = frame["account_id"].isin(open_accounts)
    in_market = 1.0 - np.exp(-frame["intent_score"].fillna(0.0).to_numpy(float) / scoring.intent.saturation)
    frame["intent_potential"] = frame["potential"].to_numpy(float) * in_market
    frame["is_customer"] = frame["is_customer"].fillna(False).astype(bool)
    frame["current_arr"] = frame["current_arr"].fillna(0.0)
    return frame
