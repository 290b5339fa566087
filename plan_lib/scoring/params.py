"""The `scoring` section of the parameters file: everything an analyst tunes about potential.

The potential of an account (currency per year) is

    potential = base_value[segment] x fit x intent_uplift x propensity
              + expansion_factor x current_arr            (customers only)

    fit           = industry_weights[industry] x product over size_curves of curve(column)
    intent_uplift = 1 + max_uplift x (1 - exp(-intent_score / saturation))
    propensity    = the fitted statsmodels logit (or the documented prior) as of the snapshot

so each knob has one meaning: ``base_value`` is what an account of fit 1 that
buys is worth in a year, the curves and weights say how much more or less a
given account fits, intent and propensity say how likely it is to buy now.

Only what can be checked without data is checked here (types, signs, curve
shapes); :func:`plan_lib.scoring.checks.check_against_data` checks the names
(industries, columns, topics, segments, formula terms) against the tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from plan_lib.errors import ParameterError
from plan_lib.paramtypes import StrictModel, parameter_error, parse_iso_date

NonNegative = Annotated[float, Field(ge=0)]


class SegmentRule(StrictModel):
    """One segment rule; rules are read top to bottom and the first match wins."""

    segment: str = Field(min_length=1, description="segment name given to matching accounts")
    min_employees: float | None = Field(
        None, ge=0, description="match accounts with at least this many employees"
    )
    min_annual_revenue: float | None = Field(
        None, ge=0, description="match accounts with at least this annual revenue (currency)"
    )
    industries: list[str] | None = Field(
        None, description="only accounts of these industries (in addition to the size test)"
    )

    @property
    def is_catch_all(self) -> bool:
        return (
            self.min_employees is None and self.min_annual_revenue is None and not self.industries
        )


#: Same thresholds as the demo generator: Enterprise >= 1000 employees or >= 250M revenue, Mid-Market >= 100 or >= 20M.
DEFAULT_SEGMENT_RULES: tuple[dict[str, Any], ...] = (
    {"segment": "Enterprise", "min_employees": 1000, "min_annual_revenue": 250_000_000},
    {"segment": "Mid-Market", "min_employees": 100, "min_annual_revenue": 20_000_000},
    {"segment": "SMB"},
)

#: Value per year of a fit-1 account that buys, per default segment (currency); see README "Potential".
DEFAULT_BASE_VALUE: dict[str, float] = {
    "Enterprise": 40_000.0,
    "Mid-Market": 26_000.0,
    "SMB": 18_500.0,
}

#: Employees -> multiplier, interpolated on log10(employees): about employees^0.65 scaled to 1 at 30 heads
#: (deal size grows like sqrt(size), deal frequency a little more), flat beyond the ends.
DEFAULT_EMPLOYEE_CURVE: list[tuple[float, float]] = [
    (1, 0.11),
    (3, 0.22),
    (10, 0.49),
    (30, 1.0),
    (100, 2.19),
    (300, 4.47),
    (1_000, 9.77),
    (3_000, 19.95),
    (10_000, 43.6),
    (30_000, 89.1),
    (100_000, 195.0),
    (400_000, 480.0),
]


class SizeCurve(StrictModel):
    """A multiplier as a function of one numeric account column, given as points."""

    points: list[tuple[float, NonNegative]] = Field(
        description="(value, multiplier) pairs with strictly increasing values; "
        "interpolated between points and flat beyond the first and last"
    )
    scale: Literal["log", "linear"] = Field(
        "log", description="interpolate on log10(value) ('log', for heavy-tailed sizes) or on value"
    )
    missing: NonNegative = Field(
        1.0, description="multiplier for accounts where the column is empty"
    )

    @field_validator("points")
    @classmethod
    def _increasing(cls, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if len(points) < 2:
            raise ValueError("give at least two (value, multiplier) points")
        xs = [x for x, _ in points]
        if any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
            raise ValueError(f"point values must increase strictly, got {xs}")
        return points

    @model_validator(mode="after")
    def _positive_for_log(self) -> SizeCurve:
        if self.scale == "log" and self.points[0][0] <= 0:
            raise ValueError(
                "a 'log' curve needs point values above 0 (use scale: linear, or start at 1)"
            )
        return self


class IntentParams(StrictModel):
    window_days: int = Field(90, ge=1, le=3650, description="only signals of the last N days count")
    half_life_days: float = Field(
        30.0,
        gt=0,
        description="a signal's weight halves every N days (recent research matters more)",
    )
    topic_weights: dict[str, NonNegative] = Field(
        default_factory=dict,
        description="weight per topic (topics not listed get default_topic_weight)",
    )
    default_topic_weight: NonNegative = Field(
        1.0, description="weight of topics not in topic_weights"
    )
    max_uplift: NonNegative = Field(
        0.2, description="potential multiplier reaches 1 + max_uplift for the strongest intent"
    )
    saturation: float = Field(
        1.0,
        gt=0,
        description="intent score at which the uplift reaches 63% of max_uplift "
        "(score = sum of topic weight x strength/100 x decay: one full-strength signal today scores 1)",
    )


class ActivityParams(StrictModel):
    window_days: int = Field(
        90, ge=1, le=3650, description="only activities of the last N days count"
    )
    type_weights: dict[str, NonNegative] = Field(
        default_factory=dict,
        description="weight per activity type (types not listed get default_type_weight)",
    )
    default_type_weight: NonNegative = Field(
        1.0, description="weight of activity types not in type_weights"
    )


#: Features the formula may use (columns of plan_lib.scoring.features.FEATURE_COLUMNS).
DEFAULT_TERMS: tuple[str, ...] = (
    "np.log1p(employees)",
    "C(industry)",
    "np.log1p(intent_score)",
    "is_customer",
    "np.log1p(activity_count)",
)

#: The fallback: typical B2B effects, documented in README "Propensity"; used only when history is too thin.
DEFAULT_PRIOR: dict[str, float] = {
    "Intercept": -3.0,
    "np.log1p(employees)": 0.2,
    "np.log1p(intent_score)": 1.5,
    "is_customer": 1.0,
    "np.log1p(activity_count)": 0.8,
}


class PropensityParams(StrictModel):
    terms: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TERMS),
        min_length=1,
        description="right-hand side terms of the statsmodels formula `won ~ term + term ...` "
        "over the feature columns (employees, annual_revenue, industry, is_customer, current_arr, "
        "intent_score, intent_events, activity_count); C(x) makes x categorical",
    )
    holdout_from: dt.date | None = Field(
        None,
        description="out-of-time holdout: opportunities created on or after this date "
        "(default: the latest holdout_share of them)",
    )
    holdout_share: float = Field(
        0.2, gt=0, lt=1, description="share of the most recently created opportunities held out"
    )
    min_events: int = Field(
        50,
        ge=1,
        description="fit only when the training set has at least this many wins AND losses; "
        "below, the prior is used and the report says so",
    )
    min_level_count: int = Field(
        20,
        ge=0,
        description="categorical levels with fewer training opportunities are pooled into 'Other'",
    )
    history_days: int | None = Field(
        None, ge=30, description="only opportunities created in the last N days before the snapshot"
    )
    refit_on_all: bool = Field(
        True,
        description="after validation on the holdout, refit on all opportunities for scoring "
        "(the holdout figures stay those of the training-only fit)",
    )
    prior: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_PRIOR),
        description="fallback logit coefficients by design column name (as in the coefficient "
        "table, e.g. 'Intercept', 'np.log1p(employees)', 'C(industry)[T.Retail]'); unnamed columns get 0",
    )
    max_iter: int = Field(100, ge=10, description="Newton iterations of the logit fit")

    @field_validator("holdout_from", mode="before")
    @classmethod
    def _strict_date(cls, value: Any) -> Any:
        return None if value is None else parse_iso_date(value)


class BacktestParams(StrictModel):
    enabled: bool = Field(
        True, description="score as of earlier dates and compare with the bookings that followed"
    )
    periods: int = Field(
        1,
        ge=1,
        le=8,
        description="how many past periods to backtest (1 = score as of one period before the "
        "snapshot, compare with that period's bookings)",
    )
    period_months: int = Field(3, ge=1, le=12, description="length of a backtest period in months")


class ScoringParams(StrictModel):
    """The `scoring` section: segments, the potential formula, the propensity model, the backtest."""

    segment_rules: list[SegmentRule] = Field(
        default_factory=lambda: [SegmentRule(**rule) for rule in DEFAULT_SEGMENT_RULES],
        min_length=1,
        description="first matching rule gives the segment; the last rule must match everyone "
        "(no thresholds); an account family takes the segment of its top parent",
    )
    use_data_segments: bool = Field(
        True,
        description="keep a segment written in the accounts table; rules only fill blanks "
        "(false: rules decide for every account)",
    )
    base_value: dict[str, NonNegative] = Field(
        default_factory=lambda: dict(DEFAULT_BASE_VALUE),
        description="currency per year that an account of fit 1 which buys is worth, per segment",
    )
    industry_weights: dict[str, NonNegative] = Field(
        default_factory=dict,
        description="fit multiplier per industry (0 excludes an industry); unlisted industries "
        "get default_industry_weight",
    )
    default_industry_weight: NonNegative = Field(
        1.0, description="fit multiplier of unlisted or empty industries"
    )
    size_curves: dict[str, SizeCurve] = Field(
        default_factory=lambda: {
            "employees": SizeCurve.model_validate({"points": DEFAULT_EMPLOYEE_CURVE})
        },
        description="numeric account column -> fit multiplier curve; curves multiply",
    )
    intent: IntentParams = Field(default_factory=IntentParams)
    activities: ActivityParams = Field(default_factory=ActivityParams)
    propensity: PropensityParams = Field(default_factory=PropensityParams)
    expansion_factor: NonNegative = Field(
        0.15, description="customers add expansion_factor x current_arr per year to their potential"
    )
    reference_propensity: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="propensity of the 'typical account' that contributions are measured from "
        "(default: the mean propensity of the accounts scored); pin it to compare runs",
    )
    backtest: BacktestParams = Field(default_factory=BacktestParams)

    @field_validator("segment_rules")
    @classmethod
    def _last_rule_catches_all(cls, rules: list[SegmentRule]) -> list[SegmentRule]:
        if not rules[-1].is_catch_all:
            raise ValueError(
                "the last rule must match every account (only a segment name, no thresholds or "
                "industries), so that no account is left without a segment"
            )
        return rules


def parse_scoring_params(
    raw: Any, source: str = "<parameters>", prefix: str = "scoring"
) -> ScoringParams:
    """Validate a mapping as the scoring section; errors name the key (``scoring.intent.half_life_days``)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ParameterError(source, prefix, "expected a mapping of keys to values")
    try:
        return ScoringParams.model_validate(raw)
    except ValidationError as error:
        raise parameter_error(error, source, prefix) from None

