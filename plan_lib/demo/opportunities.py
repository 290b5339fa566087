"""Opportunities: two and a half years of CRM history plus the plan period.

Assumptions:

- Rate: each account opens opportunities as a Poisson process with a yearly
  rate proportional to (employees / 30)^0.15 x exp(0.25 x engagement), x 1.6
  for customers (expansions), scaled so the average account has 4.5 over the
  horizon (30 months of history + the quarter). New accounts start with the period.
- The business grows: every account's rate rises 12% a year (exponential in
  time), so the targets' 10-20% growth is in line with the trend.
- created_date drawn from that growing rate in the window; close_date =
  created + 20..150 days.
- Outcome: won with the hidden true probability at created_date
  (``plan_lib.demo.propensity``); lost otherwise.
- The files are an extract taken at the end of the period: an opportunity
  whose close_date falls after it is "open" with an empty close_date; all
  others carry their final stage and close_date (the monitor replays any
  "as of" day: an opportunity closing after that day was open then).
- Amount (first-year value, currency): 3,000 x sqrt(employees) x segment
  factor (Enterprise 1.3, Mid-Market 1.0, SMB 0.8) x lognormal noise (mean 1,
  sd-log 0.6), rounded to the hundred, at least 500.
- Owner: the account's owner at the time: last period's owner, except that
  history before the owner's start, and 15% of the history older than a year
  (5% of the last year), belonged to former reps ("R-FORMER-07", absent from
  the roster, as real CRM history is). Unowned new accounts' deals have no owner.
- Bookings trends in the period: the amount of every opportunity closing in
  the period is multiplied by exp(level + slope x (t - 0.5)), t = share of the
  quarter elapsed at close, with level and slope the sums of a per-rep part
  (sd 0.25 and 0.6) and a per-region part (sd 0.1 and 0.3): some reps and
  regions run clearly ahead or behind and accelerate or fade. The draws are
  in the ground truth (``bookings_trend``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from plan_lib import geo
from plan_lib.demo._columns import id_width, labels, make_ids
from plan_lib.demo.calendar import Timeline
from plan_lib.demo.firmographics import Accounts
from plan_lib.demo.propensity import true_probability
from plan_lib.demo.roster import Sellers
from plan_lib.demo.signals import EventLog

MEAN_OPPORTUNITIES = 4.5  # per account over history + period
SEGMENT_AMOUNT_FACTOR = np.array([1.3, 1.0, 0.8])  # Enterprise, Mid-Market, SMB
AMOUNT_SIGMA = 0.6
MIN_CYCLE_DAYS, MAX_CYCLE_DAYS = 20, 150
FORMER_SHARE_OLD, FORMER_SHARE_RECENT = 0.15, 0.05
GROWTH_PER_YEAR = 0.12
STAGES = ("open", "won", "lost")


@dataclass
class Opportunities:
    """Opportunities as parallel arrays, ordered by (created, account): ids follow creation."""

    account: np.ndarray
    created: np.ndarray
    close: np.ndarray  # day number; meaningless where stage is open
    stage: np.ndarray  # index into STAGES
    amount: np.ndarray
    owner: pd.Series  # rep id text, missing for unowned accounts
    owner_seller: np.ndarray  # seller row, -1 for former reps and unowned
    true_probability: np.ndarray

    def __len__(self) -> int:
        return len(self.account)


@dataclass
class Trends:
    rep_level: np.ndarray
    rep_slope: np.ndarray
    region_level: np.ndarray
    region_slope: np.ndarray

    def frame(self, sellers: Sellers) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "unit_type": pd.Series(
                    ["rep"] * sellers.n + ["region"] * len(geo.REGIONS), dtype="str"
                ),
                "unit_id": pd.Series(list(sellers.rep_id) + list(geo.REGIONS), dtype="str"),
                "level": np.r_[self.rep_level, self.region_level],
                "slope": np.r_[self.rep_slope, self.region_slope],
            }
        )


def opportunity_rate(accounts: Accounts, timeline: Timeline) -> np.ndarray:
    """Opportunities per year of each account."""
    shape = (
        (accounts.employees / 30.0) ** 0.15
        * np.exp(0.25 * accounts.engagement)
        * np.where(accounts.is_customer, 1.6, 1.0)
    )
    years = (timeline.extract - timeline.history_start + 1) / 365.25
    return shape / shape.mean() * MEAN_OPPORTUNITIES / years


def _growth_mass(first: int, last: int, origin: int) -> float:
    """Integral of the growth curve exp(g (t - origin)) over days first..last (t in years)."""
    g = np.log1p(GROWTH_PER_YEAR) / 365.25
    return float((np.exp(g * (last + 1 - origin)) - np.exp(g * (first - origin))) / g)


def _growing_days(rng: np.random.Generator, n: int, first: int, last: int) -> np.ndarray:
    """Days in first..last drawn with density proportional to the growth curve."""
    g = np.log1p(GROWTH_PER_YEAR) / 365.25
    span = last + 1 - first
    t = np.log1p(rng.random(n) * np.expm1(g * span)) / g
    return np.minimum(first + np.floor(t).astype(np.int64), last)


def expected_amount(accounts: Accounts) -> np.ndarray:
    return 3000.0 * np.sqrt(accounts.employees) * SEGMENT_AMOUNT_FACTOR[accounts.segment]


def expected_annual_bookings(
    accounts: Accounts, probability: np.ndarray, timeline: Timeline
) -> np.ndarray:
    """Rate x win probability x expected amount: the generator's notion of potential."""
    return opportunity_rate(accounts, timeline) * probability * expected_amount(accounts)


def draw_trends(sellers: Sellers, rng: np.random.Generator) -> Trends:
    return Trends(
        rep_level=np.round(rng.normal(0.0, 0.25, sellers.n), 4),
        rep_slope=np.round(rng.normal(0.0, 0.6, sellers.n), 4),
        region_level=np.round(rng.normal(0.0, 0.1, len(geo.REGIONS)), 4),
        region_slope=np.round(rng.normal(0.0, 0.3, len(geo.REGIONS)), 4),
    )


def former_rep_ids(n_reps: int) -> np.ndarray:
    n = max(3, n_reps // 25)
    return make_ids("R-FORMER-", np.arange(1, n + 1), id_width(n, 2)).to_numpy(dtype=object)


def build_opportunities(
    accounts: Accounts,
    owner: np.ndarray,
    sellers: Sellers,
    intent: EventLog,
    activities: EventLog,
    timeline: Timeline,
    trends: Trends,
    rng: np.random.Generator,
) -> Opportunities:
    period = timeline.period
    rate = opportunity_rate(accounts, timeline)
    origin = timeline.history_start
    total_mass = _growth_mass(origin, timeline.extract, origin)
    hist_share = _growth_mass(origin, timeline.snapshot, origin) / total_mass
    period_share = _growth_mass(period.start, period.end, origin) / total_mass
    total_years = (timeline.extract - origin + 1) / 365.25
    n_hist = np.where(accounts.is_new, 0, rng.poisson(rate * total_years * hist_share))
    n_period = rng.poisson(rate * total_years * period_share)
    account = np.r_[
        np.repeat(np.arange(accounts.n), n_hist), np.repeat(np.arange(accounts.n), n_period)
    ]
    created = np.r_[
        _growing_days(rng, int(n_hist.sum()), origin, timeline.snapshot),
        _growing_days(rng, int(n_period.sum()), period.start, period.end),
    ]
    order = np.lexsort((account, created))
    account, created = account[order], created[order]
    n = len(account)

    close = created + rng.integers(MIN_CYCLE_DAYS, MAX_CYCLE_DAYS + 1, size=n)
    probability = true_probability(accounts, intent, activities, account, created)
    won = rng.random(n) < probability
    stage = np.where(close > timeline.extract, 0, np.where(won, 1, 2)).astype(np.int8)

    amount = expected_amount(accounts)[account] * rng.lognormal(
        -(AMOUNT_SIGMA**2) / 2, AMOUNT_SIGMA, n
    )

    seller = owner[account]
    has_owner = seller >= 0
    safe = np.where(has_owner, seller, 0)
    age = timeline.snapshot - created
    former_share = np.where(
        age > 365,
        FORMER_SHARE_OLD,
        np.where(created <= timeline.snapshot, FORMER_SHARE_RECENT, 0.0),
    )
    to_former = has_owner & ((created < sellers.start_day[safe]) | (rng.random(n) < former_share))
    formers = former_rep_ids(sellers.n)
    former_pick = rng.integers(0, len(formers), size=n)
    owner_seller = np.where(has_owner & ~to_former, seller, -1)

    in_period = (close >= period.start) & (close <= period.end)
    elapsed = (close - period.start + 0.5) / period.days - 0.5
    region = accounts.region[account]
    rep_part = np.where(owner_seller >= 0, 1.0, 0.0)
    safe_owner = np.maximum(owner_seller, 0)
    level = trends.region_level[region] + rep_part * trends.rep_level[safe_owner]
    slope = trends.region_slope[region] + rep_part * trends.rep_slope[safe_owner]
    amount = np.where(in_period, amount * np.exp(level + slope * elapsed), amount)
    amount = np.maximum(500.0, np.round(amount, -2))

    owner_code = np.where(to_former, sellers.n + former_pick, safe)
    owner_series = labels(list(sellers.rep_id) + list(formers), owner_code, missing=~has_owner)
    return Opportunities(
        account=account,
        created=created,
        close=close,
        stage=stage,
        amount=amount,
        owner=owner_series,
        owner_seller=owner_seller,
        true_probability=probability,
    )
