"""The hidden true propensity: the probability that an opportunity is won.

It is a logistic function of what a scoring model can observe about an account
as of a day D, using only events dated in the 90 days before D (D-90 .. D-1):

    logit p(D) = B0
               + B_EMPLOYEES * log1p(employees)
               + INDUSTRY_EFFECT[industry]            (vocabulary.INDUSTRIES)
               + B_INTENT    * log1p(intent(D))
               + B_CUSTOMER  * is_customer
               + B_ACTIVITY  * log1p(activities(D))

    intent(D)     = sum over intent events e of the account with D-90 <= day_e < D
                    of strength_e / 100 * 0.5 ** ((D - day_e) / 30)     (half-life 30 days)
    activities(D) = number of activities of the account with D-90 <= day < D

with the coefficients

    B0 = -3.1, B_EMPLOYEES = 0.22, B_INTENT = 1.6, B_CUSTOMER = 1.0, B_ACTIVITY = 0.9
    INDUSTRY_EFFECT: Software +0.55, Financial Services +0.30, Media +0.20,
    Professional Services +0.20, Healthcare +0.10, Telecommunications +0.10,
    Manufacturing 0, Retail -0.20, Transportation -0.20, Energy -0.30,
    Education -0.45, Public Sector -0.65.

On the generated history this gives a true AUC of about 0.78 and an average
win rate of about 24%. ``is_customer`` is the account's flag in the files
(treated as constant over the horizon: a simplification). Before the intent
feed starts nobody has intent, so intent(D) = 0 there, as a model would see it.
An opportunity's true win probability is p(created_date); an account's
true_propensity in the ground truth is p(period start), i.e. everything
known on the snapshot day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from plan_lib.demo.firmographics import Accounts
from plan_lib.demo.signals import EventLog
from plan_lib.demo.vocabulary import INDUSTRIES

B0 = -3.1
B_EMPLOYEES = 0.22
B_INTENT = 1.6
B_CUSTOMER = 1.0
B_ACTIVITY = 0.9
WINDOW_DAYS = 90
HALF_LIFE_DAYS = 30.0
INDUSTRY_EFFECT = np.array([i.propensity_effect for i in INDUSTRIES])


def window_features(
    log: EventLog, account: np.ndarray, at_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Count and half-life-decayed sum of ``value / 100`` of each account's events
    in [at_day - 90, at_day), vectorised by binary search on the sorted log.

    The decayed sum uses exp(-k (D - t)) = exp(-k D) exp(k t) with a running sum
    that restarts per account, so each query costs O(log n) and no pairs are built.
    """
    account = np.asarray(account, dtype=np.int64)
    at_day = np.asarray(at_day, dtype=np.int64)
    if len(log) == 0:
        return np.zeros(len(account), dtype=np.int64), np.zeros(len(account))
    origin = int(min(log.day.min(), at_day.min())) - WINDOW_DAYS
    span = int(max(log.day.max(), at_day.max())) - origin + 2
    key = log.account * span + (log.day - origin)
    query_hi = account * span + (at_day - origin)
    # Sorted queries make the binary searches cache-friendly (5x faster at 5M rows).
    order = None if np.all(query_hi[1:] >= query_hi[:-1]) else np.argsort(query_hi, kind="stable")
    sorted_hi = query_hi if order is None else query_hi[order]
    lo = np.empty_like(query_hi)
    hi = np.empty_like(query_hi)
    if order is None:
        lo[:] = np.searchsorted(key, sorted_hi - WINDOW_DAYS, side="left")
        hi[:] = np.searchsorted(key, sorted_hi, side="left")
    else:
        lo[order] = np.searchsorted(key, sorted_hi - WINDOW_DAYS, side="left")
        hi[order] = np.searchsorted(key, sorted_hi, side="left")
    count = hi - lo

    k = np.log(2.0) / HALF_LIFE_DAYS
    t_ref = log.day - origin
    # Running sum that restarts per account (a segmented cumsum, not a global
    # cumsum minus an offset, which would cancel catastrophically): each
    # account's magnitudes stay its own, so the result keeps full precision.
    weighted = log.value / 100.0 * np.exp(k * t_ref.astype(float))
    running = pd.Series(weighted).groupby(log.account, sort=False).cumsum().to_numpy()

    def prefix(i: np.ndarray) -> np.ndarray:
        """Sum of the account's weights over rows before position i (0 at its first row)."""
        prev = np.clip(i - 1, 0, len(log) - 1)
        same = (i > 0) & (log.account[prev] == account)
        return np.where(same, running[prev], 0.0)

    decayed = (prefix(hi) - prefix(lo)) * np.exp(-k * (at_day - origin).astype(float))
    return count, np.maximum(decayed, 0.0)


def true_logit(
    accounts: Accounts,
    intent: EventLog,
    activities: EventLog,
    account: np.ndarray,
    at_day: np.ndarray,
) -> np.ndarray:
    """The hidden logit for each (account row, day) pair (see the module docstring)."""
    _, intent_score = window_features(intent, account, at_day)
    n_activities, _ = window_features(activities, account, at_day)
    return (
        B0
        + B_EMPLOYEES * np.log1p(accounts.employees[account])
        + INDUSTRY_EFFECT[accounts.industry[account]]
        + B_INTENT * np.log1p(intent_score)
        + B_CUSTOMER * accounts.is_customer[account]
        + B_ACTIVITY * np.log1p(n_activities)
    )


def true_probability(
    accounts: Accounts,
    intent: EventLog,
    activities: EventLog,
    account: np.ndarray,
    at_day: np.ndarray,
) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-true_logit(accounts, intent, activities, account, at_day)))
