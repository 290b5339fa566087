"""Intent signals and activities: dated events per account.

Intent (a G2-like feed that starts 18 months before the period):

- About 35% of accounts appear in the feed, likelier for engaged and bigger ones.
- Background noise: 0.25 events a month, strength uniform 5-50, any topic.
- Surges: research bursts at 0.6 a year x exp(0.7 x engagement); each surge is
  2 + Poisson(3) events within about two weeks (sd 7 days) of its centre, with
  strength 40-100 and mostly the account's main topic. Engaged accounts surge
  more, so intent carries the propensity signal the scoring model must find.

Activities (the CRM's engagement log, from 90 days before the history):
1.2 a year x (employees / 30)^0.2 x exp(0.6 x engagement), x 2.5 for
customers; types email/call/meeting/demo in fixed shares.

Events are returned sorted by (account, day) so that windowed features are
binary searches (see ``plan_lib.demo.propensity``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plan_lib.demo.calendar import Timeline
from plan_lib.demo.firmographics import Accounts, _sigmoid, calibrate_intercept
from plan_lib.demo.vocabulary import ACTIVITY_TYPE_SHARES, INTENT_TOPICS

INTENT_ACCOUNT_SHARE = 0.35
BACKGROUND_PER_MONTH = 0.25
SURGES_PER_YEAR = 0.6
ACTIVITIES_PER_YEAR = 1.2
DAYS_PER_MONTH = 365.25 / 12


@dataclass
class EventLog:
    """Events sorted by (account, day); ``value`` is the strength (1.0 for activities)."""

    account: np.ndarray  # int64 account row
    day: np.ndarray  # int64 day number
    value: np.ndarray  # float64
    kind: np.ndarray  # int8 topic or activity type code

    def __len__(self) -> int:
        return len(self.account)

    @classmethod
    def sorted(
        cls, account: np.ndarray, day: np.ndarray, value: np.ndarray, kind: np.ndarray
    ) -> EventLog:
        order = np.lexsort((day, account))  # stable: ties keep their (seeded) draw order
        return cls(account[order], day[order], value[order], kind[order])


def _uniform_days(rng: np.random.Generator, n: int, first: int, last: int) -> np.ndarray:
    return rng.integers(first, last + 1, size=n, dtype=np.int64)


def build_intent(accounts: Accounts, timeline: Timeline, rng: np.random.Generator) -> EventLog:
    first, last = timeline.intent_start, timeline.extract
    months = (last - first + 1) / DAYS_PER_MONTH
    size = np.log(accounts.employees) - 3.5
    score = 0.8 * accounts.engagement + 0.25 * size
    in_feed = rng.random(accounts.n) < _sigmoid(
        calibrate_intercept(score, INTENT_ACCOUNT_SHARE) + score
    )
    feed = np.flatnonzero(in_feed)
    main_topic = rng.integers(0, len(INTENT_TOPICS), size=accounts.n)

    # background noise
    n_bg = rng.poisson(BACKGROUND_PER_MONTH * months, size=len(feed))
    bg_account = np.repeat(feed, n_bg)
    bg_day = _uniform_days(rng, len(bg_account), first, last)
    bg_value = rng.uniform(5.0, 50.0, size=len(bg_account))
    bg_topic = rng.integers(0, len(INTENT_TOPICS), size=len(bg_account))

    # surges
    rate = SURGES_PER_YEAR * months / 12.0 * np.exp(0.7 * accounts.engagement[feed])
    n_surges = rng.poisson(rate)
    surge_account = np.repeat(feed, n_surges)
    centre = _uniform_days(rng, len(surge_account), first, last)
    n_events = 2 + rng.poisson(3.0, size=len(surge_account))
    ev_account = np.repeat(surge_account, n_events)
    ev_day = np.repeat(centre, n_events) + np.round(
        rng.normal(0.0, 7.0, size=len(ev_account))
    ).astype(np.int64)
    inside = (ev_day >= first) & (ev_day <= last)
    ev_account, ev_day = ev_account[inside], ev_day[inside]
    ev_value = 40.0 + 60.0 * rng.beta(2.0, 2.0, size=len(ev_account))
    ev_topic = np.where(
        rng.random(len(ev_account)) < 0.75,
        main_topic[ev_account],
        rng.integers(0, len(INTENT_TOPICS), size=len(ev_account)),
    )

    return EventLog.sorted(
        np.concatenate([bg_account, ev_account]),
        np.concatenate([bg_day, ev_day]),
        np.round(np.concatenate([bg_value, ev_value]), 1),
        np.concatenate([bg_topic, ev_topic]).astype(np.int8),
    )


def build_activities(accounts: Accounts, timeline: Timeline, rng: np.random.Generator) -> EventLog:
    first, last = timeline.activity_start, timeline.extract
    years = (last - first + 1) / 365.25
    rate = (
        ACTIVITIES_PER_YEAR
        * (accounts.employees / 30.0) ** 0.2
        * np.exp(0.6 * accounts.engagement)
        * np.where(accounts.is_customer, 2.5, 1.0)
    )
    # New accounts have no history with us: their activity starts with the period.
    span = np.where(accounts.is_new, (last - timeline.period.start + 1) / 365.25, years)
    start = np.where(accounts.is_new, timeline.period.start, first)
    n = rng.poisson(rate * span)
    account = np.repeat(np.arange(accounts.n), n)
    offset = np.floor(rng.random(len(account)) * (last + 1 - np.repeat(start, n))).astype(np.int64)
    day = np.repeat(start, n) + offset
    kind = rng.choice(len(ACTIVITY_TYPE_SHARES), size=len(account), p=ACTIVITY_TYPE_SHARES).astype(
        np.int8
    )
    return EventLog.sorted(account, day, np.ones(len(account)), kind)
