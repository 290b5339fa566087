"""generate_demo_data: the recipe, top to bottom.

Every concern draws from its own random stream, spawned from one
``numpy.random.SeedSequence(seed)``: the same seed gives identical tables, and
changing how one concern draws does not reshuffle the others.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from plan_lib.contract import QUOTA_HISTORY, REPS, TARGETS
from plan_lib.demo._columns import labels
from plan_lib.demo.calendar import DemoDataError, Period, Timeline
from plan_lib.demo.firmographics import build_accounts
from plan_lib.demo.opportunities import (
    build_opportunities,
    draw_trends,
    expected_annual_bookings,
)
from plan_lib.demo.plans import build_quota_history, build_targets
from plan_lib.demo.propensity import true_probability
from plan_lib.demo.roster import MIN_REPS, build_roster
from plan_lib.demo.segments import SEGMENTS
from plan_lib.demo.signals import build_activities, build_intent
from plan_lib.demo.tables import (
    account_ids,
    accounts_table,
    activities_table,
    in_contract_order,
    intent_table,
    opportunities_table,
)
from plan_lib.demo.territories import assign_current_owner

_STREAMS = ("accounts", "intent", "activities", "roster", "territories", "opportunities", "plans")


class DemoParameters(BaseModel):
    """What demo data set to generate (the ``demo`` section of the parameters)."""

    model_config = ConfigDict(extra="forbid")

    n_accounts: int = Field(
        20_000, ge=1_000, le=5_000_000, description="number of accounts to generate"
    )
    n_reps: int = Field(
        80,
        ge=MIN_REPS,
        le=10_000,
        description="quota-carrying rep rows (open headcount included); managers, directors and a VP come on top",
    )
    seed: int = Field(0, ge=0, description="random seed: the same seed gives byte-identical files")
    period: str = Field(
        "2027Q1",
        pattern=r"^\d{4}Q[1-4]$",
        description="plan period YYYYQn; history ends the day before it starts",
    )


@dataclass(frozen=True)
class DemoData:
    """Contract tables (exact contract columns and order) and the hidden truth behind them.

    ``truth`` holds: opportunity_truth (opportunity_id, true_win_probability),
    account_truth (account_id, true_propensity as of the period start,
    true_segment, expected_annual_bookings) and bookings_trend (unit_type
    rep|region, unit_id, level, slope of the in-period bookings multiplier).
    """

    tables: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]
    parameters: DemoParameters
    as_of: dt.date  # the snapshot day: history is complete up to and including it
    extract: dt.date  # the last day in the files (period end)


def _parameters(**values: object) -> DemoParameters:
    try:
        return DemoParameters(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise DemoDataError(f"cannot generate demo data: {problems}") from None


def _date(day_number: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day_number))


def generate_demo_data(
    n_accounts: int = 20_000, n_reps: int = 80, seed: int = 0, period: str = "2027Q1"
) -> DemoData:
    """A realistic, seeded B2B data set on real US geography (see ``plan_lib.demo``)."""
    params = _parameters(n_accounts=n_accounts, n_reps=n_reps, seed=seed, period=period)
    timeline = Timeline(Period.parse(params.period))
    rng = dict(
        zip(
            _STREAMS,
            (
                np.random.default_rng(s)
                for s in np.random.SeedSequence(params.seed).spawn(len(_STREAMS))
            ),
            strict=True,
        )
    )

    accounts = build_accounts(params.n_accounts, rng["accounts"])
    intent = build_intent(accounts, timeline, rng["intent"])
    activities = build_activities(accounts, timeline, rng["activities"])
    propensity_now = true_probability(
        accounts,
        intent,
        activities,
        np.arange(accounts.n),
        np.full(accounts.n, timeline.period.start),
    )
    potential = expected_annual_bookings(accounts, propensity_now, timeline)
    roster = build_roster(accounts, potential, params.n_reps, timeline, rng["roster"])
    owner = assign_current_owner(accounts, roster, rng["territories"])
    trends = draw_trends(roster.sellers, rng["opportunities"])
    opps = build_opportunities(
        accounts, owner, roster.sellers, intent, activities, timeline, trends, rng["opportunities"]
    )
    targets = build_targets(accounts, opps, timeline, rng["plans"])
    quota_history = build_quota_history(
        accounts, opps, owner, potential, roster.sellers, timeline, rng["plans"]
    )

    ids = account_ids(accounts.n)
    opportunities = opportunities_table(opps, ids)
    tables = {
        "reps": in_contract_order(roster.table, REPS),
        "accounts": accounts_table(accounts, owner, roster.sellers, ids),
        "opportunities": opportunities,
        "intent_signals": intent_table(intent, ids),
        "targets": in_contract_order(targets, TARGETS),
        "activities": activities_table(activities, ids),
        "quota_history": in_contract_order(quota_history, QUOTA_HISTORY),
    }
    truth = {
        "opportunity_truth": pd.DataFrame(
            {
                "opportunity_id": opportunities["opportunity_id"],
                "true_win_probability": np.round(opps.true_probability, 6),
            }
        ),
        "account_truth": pd.DataFrame(
            {
                "account_id": ids,
                "true_propensity": np.round(propensity_now, 6),
                "true_segment": labels(SEGMENTS, accounts.segment),
                "expected_annual_bookings": np.round(potential, 2),
            }
        ),
        "bookings_trend": trends.frame(roster.sellers),
    }
    return DemoData(
        tables=tables,
        truth=truth,
        parameters=params,
        as_of=_date(timeline.snapshot),
        extract=_date(timeline.extract),
    )
