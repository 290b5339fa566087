"""Parameters of the monitoring step (the ``monitor`` section of the parameters file).

Every threshold is relative where it can be (a ratio to a segment mean, to the
company figure, to the share of the period elapsed), so that the same settings
work for a 20-rep start-up and a 2,000-rep sales force.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, field_validator

from plan_lib.balance.params import BalanceParams
from plan_lib.paramtypes import StrictModel, parse_iso_date

Level = Literal["rep", "team", "segment", "region", "industry", "state", "county", "company"]
ALL_LEVELS: tuple[str, ...] = ("rep", "team", "segment", "region", "industry", "state", "county", "company")
#: Levels whose units are groups of reps (the rest group accounts by their attributes).
REP_LEVELS: tuple[str, ...] = ("rep", "team", "segment", "region", "company")


class ForecastParams(StrictModel):
    """Weekly bookings models and the period-end forecast."""

    levels: list[Level] = Field(
        default_factory=lambda: ["rep", "team", "segment", "region", "company"],
        description="units forecast (and tested for trend changes); industry and state are possible, "
        "county is usually too sparse",
    )
    lookback_weeks: int = Field(
        39, ge=8, le=260,
        description="whole weeks ending on as_of that the models see (39 = the quarter so far plus about "
        "half a year before it)",
    )
    trend: bool = Field(
        True, description="local linear trend (level and slope move) instead of a local level only"
    )
    interval: float = Field(0.8, gt=0, lt=1, description="coverage of the forecast interval (0.8 = 10th to 90th percentile)")
    min_active_weeks: int = Field(
        8, ge=2,
        description="a unit with fewer weeks with any booking in the lookback is too sparse for a weekly "
        "model: its forecast is a run rate with a compound-Poisson interval (method 'run_rate')",
    )
    statsmodels_max_units: int = Field(
        30, ge=0,
        description="levels with at most this many dense units (segments, regions, the company) get one "
        "statsmodels UnobservedComponents fit per unit; larger levels share variance ratios estimated "
        "by pooled maximum likelihood and are filtered together (vectorised)",
    )


class TrendParams(StrictModel):
    """Trend-change tests: is the unit's weekly bookings rate in the period different from before?"""

    alpha: float = Field(
        0.05, gt=0, lt=1,
        description="false discovery rate (Benjamini-Hochberg, per level) under which a change is significant",
    )
    min_level_change: float = Field(
        0.2, ge=0,
        description="smallest change of the in-period rate over the baseline worth a flag, as a factor: 0.2 = up "
        "by 20% or more, or down to 1/1.2 (-17%) or less",
    )
    min_weekly_slope: float = Field(
        0.03, ge=0,
        description="smallest in-period change of the rate per week worth a flag (0.03 = +/-3% a week, "
        "about +/-45% over a quarter)",
    )
    min_period_weeks: int = Field(
        2, ge=1, description="in-period weeks needed before the level test runs (the slope test needs twice that)"
    )


class FlagParams(StrictModel):
    """When a rep or a zone is off track."""

    on_track_pacing: float = Field(
        0.9, ge=0,
        description="a unit is on track when attainment / expected share to date is at least this",
    )
    off_track_pacing: float = Field(
        0.75, ge=0, description="flag 'off_track' when pacing is below this (and the period is under way)"
    )
    off_track_probability: float = Field(
        0.2, ge=0, le=1, description="flag 'off_track' when the forecast probability of reaching quota is below this"
    )
    low_coverage: float = Field(
        1.0, ge=0,
        description="flag 'low_coverage' when open pipeline x win rate covers less than this multiple of "
        "the remaining quota",
    )
    min_elapsed_share: float = Field(
        0.1, ge=0, le=1, description="no pacing flags before this share of the period has elapsed (too early to tell)"
    )
    levels: list[Level] = Field(
        default_factory=lambda: ["rep", "team", "segment", "region", "state"],
        description="levels whose units get flags",
    )


class ResizeParams(StrictModel):
    """A book far out of line: propose a limited rebalance with its neighbours."""

    enabled: bool = Field(True, description="look for books to resize")
    potential_band: float = Field(
        0.25, ge=0,
        description="a book whose potential per FTE is more than this away from its segment mean "
        "(0.25 = +/-25%) is out of line",
    )
    pipeline_ratio: float = Field(
        2.5, ge=1,
        description="a book whose expected pipeline (open x win rate) per FTE exceeds this multiple of its "
        "segment mean is overloaded",
    )
    neighbours: int = Field(6, ge=1, description="the rebalance involves the book and its k nearest books of the same segment")
    target_band: float = Field(
        0.1, ge=0, le=1, description="hard band (tau) of the limited rebalance, relative to the neighbourhood mean"
    )
    max_move_share: float = Field(
        0.1, ge=0, le=1, description="at most this share of the neighbourhood's accounts may move (continuity limit)"
    )
    lock_active_deals: bool = Field(
        True,
        description="accounts with an open opportunity or a booking in the period stay with their rep "
        "(moving a deal in flight disrupts the customer and the credit)",
    )
    max_recommendations: int = Field(10, ge=0, description="at most this many resize proposals, worst books first")


class HeadcountParams(StrictModel):
    """Segments x regions whose potential per FTE exceeds what a rep can cover."""

    enabled: bool = Field(True, description="look for headcount gaps")
    capacity_per_fte: dict[str, float] = Field(
        default_factory=dict,
        description="segment -> potential one FTE can cover; a segment not named uses its plan-wide "
        "potential per FTE (what the plan asks of a rep)",
    )
    headroom: float = Field(
        0.2, ge=0,
        description="a cell is short of people when its potential per FTE exceeds capacity by more than this (0.2 = 20%)",
    )
    min_gap_fte: float = Field(0.5, ge=0, description="ignore gaps smaller than this many FTE")


class LeavingParams(StrictModel):
    """A rep who leaves during the period: redistribute the book, pro-rate the quotas."""

    enabled: bool = Field(True, description="plan the departures (status 'leaving' with a book, and the ones named here)")
    reps: dict[str, dt.date | None] = Field(
        default_factory=dict,
        description="rep_id -> effective date (first day without the rep; empty = the day after as_of): "
        "departures not yet in the reps table, or what-if scenarios",
    )
    neighbours: int = Field(8, ge=1, description="the book goes to the leaving rep's k nearest colleagues of the same segment")

    @field_validator("reps", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): (None if v in (None, "") else parse_iso_date(v)) for k, v in value.items()}
        return value


class InvestParams(StrictModel):
    """Zones with high potential and low coverage or penetration."""

    enabled: bool = Field(True, description="look for zones to invest in")
    level: Literal["state", "county", "region", "industry"] = Field("state", description="what a zone is")
    potential_quantile: float = Field(
        0.75, ge=0, le=1, description="a zone has high potential when it is in this top quantile of zones by potential"
    )
    min_potential_share: float = Field(0.01, ge=0, le=1, description="and holds at least this share of the total potential")
    coverage_ratio: float = Field(
        0.5, ge=0,
        description="low coverage: the zone's coverage is below this multiple of the company's",
    )
    penetration_ratio: float = Field(
        0.5, ge=0,
        description="low penetration: bookings over the potential expected to date below this multiple of the company's",
    )
    max_recommendations: int = Field(10, ge=0, description="at most this many invest proposals, largest upside first")


def _default_balance() -> BalanceParams:
    return BalanceParams(parallel="sync")


class MonitorParams(StrictModel):
    """Settings of the monitoring step (see README 'Monitoring')."""

    as_of: dt.date | None = Field(
        None,
        description="monitor as of the end of this day (the CLI's --as-of overrides it; empty = the latest "
        "date in the opportunities, capped at the period end)",
    )
    credit: Literal["assignment", "owner"] = Field(
        "assignment",
        description="who a booking counts for: the rep holding the account in the plan (territory credit, "
        "consistent with quotas set on book potential) or the opportunity's owner_rep_id (CRM credit)",
    )
    pacing: Literal["seasonal", "linear"] = Field(
        "seasonal",
        description="expected share of quota to date: from the quotas' monthly split (quota_m1..) when "
        "present, else (or with 'linear') the share of days elapsed",
    )
    win_rate_days: int = Field(365, ge=30, description="win rates come from opportunities closed in this many days before as_of")
    win_rate_prior: float = Field(
        20.0, ge=0,
        description="a rep's win rate is shrunk toward the segment's with the weight of this many average deals "
        "(few closed deals -> mostly the segment's rate)",
    )
    levels: list[Level] = Field(
        default_factory=lambda: list(ALL_LEVELS), description="levels of the attainment table"
    )
    forecast: ForecastParams = Field(default_factory=ForecastParams, description="weekly models and forecast")
    trend: TrendParams = Field(default_factory=TrendParams, description="trend-change tests")
    flags: FlagParams = Field(default_factory=FlagParams, description="off-track and coverage flags")
    resize: ResizeParams = Field(default_factory=ResizeParams, description="resize recommendations")
    headcount: HeadcountParams = Field(default_factory=HeadcountParams, description="headcount recommendations")
    leaving: LeavingParams = Field(default_factory=LeavingParams, description="departures")
    invest: InvestParams = Field(default_factory=InvestParams, description="invest recommendations")
    balance: BalanceParams = Field(
        default_factory=_default_balance,
        description="balancer settings for the limited rebalances (tau and max_move_share are set by "
        "resize; compactness, continuity, eligibility come from here)",
    )

    @field_validator("as_of", mode="before")
    @classmethod
    def _strict_date(cls, value: Any) -> Any:
        return None if value is None else parse_iso_date(value)
