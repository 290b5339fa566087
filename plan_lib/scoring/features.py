"""Account features as of any day, without leakage from later events.

"As of day d" means: at the end of day d, knowing only events dated on or
before d. An opportunity is described as of the day before it was created
(what the seller knew when it was opened; events of the creation day may be
caused by the opportunity itself); an account at the snapshot as of the
snapshot day. Both go through :meth:`FeatureBuilder.at`, so training and
scoring features cannot drift apart.

Windowed features (intent, activities) look at the ``window_days`` days ending
on d (``d - window + 1 .. d``). Intent decays with a half-life: an event of
age a days (a = d - event day) weighs ``0.5 ** (a / half_life)``. The query is
a binary search on events sorted by (account, day), then an exact sum over the
events inside each window (bounded chunks keep the memory flat), so any
number of (account, day) queries costs O((queries + pairs) log n).

Firmographics and the customer flag are read from the accounts table as they
are now: the contract has no history of them (a customer won during the
history looks like a customer before its first win; see README "Propensity").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from plan_lib.scoring._lookup import lookup, positions
from plan_lib.scoring.params import ScoringParams

#: Columns of the feature frame; the propensity formula may use any of them.
NUMERIC_FEATURES: tuple[str, ...] = (
    "employees",
    "annual_revenue",
    "is_customer",
    "current_arr",
    "intent_score",
    "intent_events",
    "activity_count",
)
CATEGORICAL_FEATURES: tuple[str, ...] = ("industry", "segment")
FEATURE_COLUMNS: tuple[str, ...] = ("account_id", *CATEGORICAL_FEATURES, *NUMERIC_FEATURES)

_MAX_PAIRS_PER_CHUNK = 4_000_000


def day_number(value: dt.date | np.datetime64 | pd.Timestamp) -> int:
    """Whole days since 1970-01-01."""
    return int(np.datetime64(pd.Timestamp(value).date(), "D").astype(np.int64))


def day_numbers(dates: pd.Series) -> np.ndarray:
    """Day numbers of a datetime column; missing dates become the smallest int64 (never in a window)."""
    values = dates.to_numpy(dtype="datetime64[s]", na_value=np.datetime64("NaT"))
    days = values.astype("datetime64[D]").astype(np.int64)
    return days


@dataclass
class EventIndex:
    """Weighted events sorted by (account code, day), queried by windows ending on a day."""

    account: np.ndarray  # int64 account code
    day: np.ndarray  # int64 day number
    weight: np.ndarray  # float64

    @classmethod
    def build(cls, account: np.ndarray, day: np.ndarray, weight: np.ndarray) -> EventIndex:
        keep = (account >= 0) & (day > np.iinfo(np.int64).min)
        account, day, weight = (
            account[keep].astype(np.int64),
            day[keep].astype(np.int64),
            weight[keep].astype(np.float64),
        )
        if len(account):
            key = account * (int(day.max()) - int(day.min()) + 1) + (day - day.min())
            if not (
                key[1:] >= key[:-1]
            ).all():  # extracts often come sorted already: skip the sort then
                order = np.argsort(key, kind="stable")
                account, day, weight = account[order], day[order], weight[order]
        return cls(account, day, weight)

    def __len__(self) -> int:
        return len(self.account)

    def window(
        self,
        account: np.ndarray,
        at_day: np.ndarray,
        window_days: int,
        half_life_days: float | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Count and weighted (decayed if a half-life is given) sum of the events of each
        queried account dated in ``at_day - window_days + 1 .. at_day``."""
        n = len(account)
        count = np.zeros(n, dtype=np.int64)
        total = np.zeros(n, dtype=np.float64)
        if n == 0 or len(self) == 0:
            return count, total
        origin = min(int(self.day.min()), int(at_day.min()) - window_days)
        span = max(int(self.day.max()), int(at_day.max())) - origin + 1
        key = self.account * span + (self.day - origin)
        upper = account * span + (at_day - origin)
        lo = np.searchsorted(key, upper - window_days + 1, side="left")
        hi = np.searchsorted(key, upper, side="right")
        count = hi - lo
        # exact sums over the (query, event) pairs, in chunks of bounded size
        cumulative = np.cumsum(count)
        first = 0
        while first < n:
            done = int(cumulative[first - 1]) if first else 0
            last = int(np.searchsorted(cumulative, done + _MAX_PAIRS_PER_CHUNK, side="right"))
            last = min(max(last, first + 1), n)
            c = count[first:last]
            pairs = int(c.sum())
            if pairs:
                query = np.repeat(np.arange(first, last), c)
                event = lo[query] + np.arange(pairs) - np.repeat(np.cumsum(c) - c, c)
                weight = self.weight[event]
                if half_life_days is not None:
                    weight = weight * np.exp2(-(at_day[query] - self.day[event]) / half_life_days)
                total[first:last] = np.bincount(
                    query - first, weights=weight, minlength=last - first
                )
            first = last
        return count, total


class FeatureBuilder:
    """Indexes the accounts and event tables once; :meth:`at` then answers any (account, day) queries."""

    def __init__(
        self,
        tables: dict[str, pd.DataFrame],
        params: ScoringParams,
        segment: pd.Series | None = None,
    ):
        accounts = tables["accounts"]
        self.params = params
        self.account_ids = accounts["account_id"].astype("str").reset_index(drop=True)
        self.static = pd.DataFrame(
            {
                "account_id": self.account_ids,
                "industry": accounts["industry"].astype("str").reset_index(drop=True),
                "segment": (segment if segment is not None else accounts["segment"])
                .astype("str")
                .reset_index(drop=True),
                "employees": accounts["employees"].astype("float64").to_numpy(na_value=np.nan),
                "annual_revenue": accounts["annual_revenue"]
                .astype("float64")
                .to_numpy(na_value=np.nan),
                "is_customer": accounts["is_customer"]
                .astype("boolean")
                .fillna(False)
                .to_numpy(dtype=float),
                "current_arr": accounts["current_arr"].astype("float64").fillna(0.0).to_numpy(),
            }
        )
        self.intent = self._intent_index(tables.get("intent_signals"))
        self.activities = self._activity_index(tables.get("activities"))

    def codes(self, account_id: pd.Series) -> np.ndarray:
        """Row of each account id in the accounts table (-1 when unknown)."""
        return positions(account_id, self.account_ids)

    def _intent_index(self, signals: pd.DataFrame | None) -> EventIndex:
        if signals is None or signals.empty:
            return EventIndex.build(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        p = self.params.intent
        topic_weight = lookup(signals["topic"], p.topic_weights, p.default_topic_weight)
        strength = signals["strength"].astype("float64").fillna(0.0).to_numpy() / 100.0
        return EventIndex.build(
            self.codes(signals["account_id"]), day_numbers(signals["date"]), topic_weight * strength
        )

    def _activity_index(self, activities: pd.DataFrame | None) -> EventIndex:
        if activities is None or activities.empty:
            return EventIndex.build(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        p = self.params.activities
        weight = lookup(activities["type"], p.type_weights, p.default_type_weight)
        return EventIndex.build(
            self.codes(activities["account_id"]), day_numbers(activities["date"]), weight
        )

    def at(self, codes: np.ndarray, days: np.ndarray | int) -> pd.DataFrame:
        """Features of accounts ``codes`` (rows of the accounts table) as of the end of ``days``."""
        codes = np.asarray(codes, dtype=np.int64)
        days = np.broadcast_to(np.asarray(days, dtype=np.int64), codes.shape).copy()
        frame = self.static.iloc[codes].reset_index(drop=True)
        ip, ap = self.params.intent, self.params.activities
        intent_events, intent_score = self.intent.window(
            codes, days, ip.window_days, ip.half_life_days
        )
        _, activity_count = self.activities.window(codes, days, ap.window_days, None)
        frame["intent_score"] = intent_score
        frame["intent_events"] = intent_events.astype(np.float64)
        frame["activity_count"] = activity_count
        return frame

    def accounts_at(self, as_of: dt.date) -> pd.DataFrame:
        """Features of every account as of the end of ``as_of`` (the scoring snapshot)."""
        return self.at(np.arange(len(self.account_ids)), day_number(as_of))


def training_opportunities(
    opportunities: pd.DataFrame, as_of: dt.date, history_days: int | None = None
) -> pd.DataFrame:
    """Won/lost opportunities whose outcome was known at the end of ``as_of``.

    An opportunity that closed after ``as_of`` was still open then, whatever
    its stage in the extract says, so it is left out (using it would train on
    the future).
    """
    as_of_ts = pd.Timestamp(as_of)
    closed = opportunities["stage"].isin(["won", "lost"]).fillna(False)
    known = closed & opportunities["close_date"].notna() & (opportunities["close_date"] <= as_of_ts)
    known &= opportunities["created_date"] <= as_of_ts
    if history_days is not None:
        known &= opportunities["created_date"] > as_of_ts - pd.Timedelta(days=history_days)
    kept = opportunities.loc[
        known, ["opportunity_id", "account_id", "created_date", "close_date", "stage", "amount"]
    ]
    kept = kept.sort_values(["created_date", "opportunity_id"], kind="stable").reset_index(
        drop=True
    )
    kept["won"] = (kept["stage"] == "won").to_numpy(dtype=np.float64)
    return kept


def opportunity_features(builder: FeatureBuilder, opportunities: pd.DataFrame) -> pd.DataFrame:
    """Each opportunity with its account's features as of the day before it was created."""
    codes = builder.codes(opportunities["account_id"])
    known = codes >= 0
    opportunities = opportunities.loc[known].reset_index(drop=True)
    days = day_numbers(opportunities["created_date"]) - 1
    features = builder.at(codes[known], days).drop(columns="account_id")
    return pd.concat([opportunities, features], axis=1)
