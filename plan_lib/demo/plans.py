"""Targets for the year ahead and last year's quotas, consistent with the history.

- targets: for the plan period and the three quarters after it, per segment x
  region: the bookings of the same quarter a year earlier (won amounts closed
  in it, by the account's segment and region) x a growth of 10-20%, rounded to
  the thousand.
- quota_history: for the four quarters before the period, every rep on the
  roster who had started by the quarter's first day: quota = the quarter's
  bookings won by the roster's reps of the segment-region x 1.1
  (over-assignment) x the rep's share of the
  expected bookings of the books (half weight in the first six months),
  x lognormal noise (sd-log 0.1), rounded to the thousand; bookings = what the
  rep actually won in the quarter (former reps' wins are not on the roster).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from plan_lib import geo
from plan_lib.demo.calendar import Period, Timeline
from plan_lib.demo.firmographics import Accounts
from plan_lib.demo.opportunities import Opportunities
from plan_lib.demo.roster import Sellers
from plan_lib.demo.segments import SEGMENTS

OVER_ASSIGNMENT = 1.10
GROWTH_RANGE = (1.10, 1.20)
RAMP_DAYS = 182


def _won_in(opps: Opportunities, quarter: Period) -> np.ndarray:
    return (opps.stage == 1) & (opps.close >= quarter.start) & (opps.close <= quarter.end)


def _segment_region_bookings(
    accounts: Accounts, opps: Opportunities, quarter: Period
) -> np.ndarray:
    won = _won_in(opps, quarter)
    acc = opps.account[won]
    out = np.zeros((len(SEGMENTS), len(geo.REGIONS)))
    np.add.at(out, (accounts.segment[acc], accounts.region[acc]), opps.amount[won])
    return out


def build_targets(
    accounts: Accounts, opps: Opportunities, timeline: Timeline, rng: np.random.Generator
) -> pd.DataFrame:
    rows = []
    for ahead in range(4):
        quarter = timeline.period.shift(ahead)
        base = _segment_region_bookings(accounts, opps, quarter.shift(-4))
        growth = rng.uniform(*GROWTH_RANGE, size=base.shape)
        for s, segment in enumerate(SEGMENTS):
            for g, region in enumerate(geo.REGIONS):
                rows.append(
                    (quarter.label, segment, region, float(np.round(base[s, g] * growth[s, g], -3)))
                )
    frame = pd.DataFrame(rows, columns=["period", "segment", "region", "bookings_target"])
    return frame.astype({"period": "str", "segment": "str", "region": "str"})


def build_quota_history(
    accounts: Accounts,
    opps: Opportunities,
    owner: np.ndarray,
    expected_bookings: np.ndarray,
    sellers: Sellers,
    timeline: Timeline,
    rng: np.random.Generator,
) -> pd.DataFrame:
    owned = owner >= 0
    book_value = np.bincount(owner[owned], weights=expected_bookings[owned], minlength=sellers.n)
    frames = []
    for back in range(4, 0, -1):
        quarter = timeline.period.shift(-back)
        present = sellers.can_own & (sellers.start_day <= quarter.start)
        ramp = np.where(quarter.start - sellers.start_day < RAMP_DAYS, 0.5, 1.0)
        weight = np.where(present, book_value * ramp, 0.0)
        cell_weight = np.zeros((len(SEGMENTS), len(geo.REGIONS)))
        np.add.at(cell_weight, (sellers.segment, sellers.region), weight)
        share = weight / np.maximum(cell_weight[sellers.segment, sellers.region], 1e-9)
        won = _won_in(opps, quarter) & (opps.owner_seller >= 0)
        bookings = np.bincount(
            opps.owner_seller[won], weights=opps.amount[won], minlength=sellers.n
        )
        cell_bookings = np.zeros((len(SEGMENTS), len(geo.REGIONS)))
        np.add.at(cell_bookings, (sellers.segment, sellers.region), bookings)
        noise = rng.lognormal(0.0, 0.1, size=sellers.n)
        quota = np.round(
            cell_bookings[sellers.segment, sellers.region] * OVER_ASSIGNMENT * share * noise, -3
        )
        rows = np.flatnonzero(present)
        frames.append(
            pd.DataFrame(
                {
                    "period": pd.Series([quarter.label] * len(rows), dtype="str"),
                    "rep_id": pd.Series(sellers.rep_id[rows], dtype="str"),
                    "quota": quota[rows],
                    "bookings": np.round(bookings[rows], 2),
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(["period", "rep_id"], kind="stable").reset_index(drop=True)
