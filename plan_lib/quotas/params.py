"""Parameters of the quota step (the ``quotas:`` section of the parameters file).

Conventions that the numbers depend on are stated here, next to the fields,
because a planner reads this model (and its descriptions) before the code.

Over-assignment. Each hierarchy node has a role (rep, manager, director, vp).
A node at role ``L`` carries ``over_assignment.L`` times the share of its
parent's quota that it covers::

    quota(parent) = sum over children c of quota(c) / over_assignment[role(c)]

So with ``rep: 1.10`` the quotas of a manager's reps add up to exactly 1.10 x
the manager's quota; with ``manager: 1.05`` a director's managers add up to
1.05 x the director's quota; with ``vp: 1.0`` the VP quotas of a
segment x region add up to its company target. (A parent whose children have
mixed roles gets each child's contribution divided by that child's factor.)
A rep's quota is therefore ``target share x`` the product of the factors on the
path from the rep up to the top.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Method = Literal["potential_index", "historical", "blend"]
ROLES = ("rep", "manager", "director", "vp")


class OverAssignment(BaseModel):
    """Over-assignment factor per hierarchy role (see the module docstring for the convention)."""

    model_config = ConfigDict(extra="forbid")

    rep: float = Field(
        1.10, ge=1.0, le=3.0,
        description="sum of the quotas of a manager's reps = this x the manager's quota",
    )
    manager: float = Field(
        1.05, ge=1.0, le=3.0,
        description="sum of the quotas of a director's managers = this x the director's quota",
    )
    director: float = Field(
        1.0, ge=1.0, le=3.0,
        description="sum of the quotas of a VP's directors = this x the VP's quota",
    )
    vp: float = Field(
        1.0, ge=1.0, le=3.0,
        description="sum of the VP quotas of a segment x region = this x its company target",
    )

    def factor(self, role: str | None) -> float:
        """Factor of a node with this role; 1.0 for a missing or unknown role (no over-assignment)."""
        return float(getattr(self, role)) if role in ROLES else 1.0


class SeasonalityParams(BaseModel):
    """How each rep's period quota is split into months or quarters."""

    model_config = ConfigDict(extra="forbid")

    granularity: Literal["month", "quarter"] = Field(
        "month", description="split the period quota into calendar months or calendar quarters"
    )
    weights: list[float] | None = Field(
        None,
        description="relative bookings weight per calendar month (12 values, January first) or per "
        "calendar quarter (4 values, Q1 first); empty = flat. Weights are per calendar unit so one "
        "list serves every period; partial months count pro rata by days",
    )

    @model_validator(mode="after")
    def _check_weights(self) -> SeasonalityParams:
        if self.weights is None:
            return self
        expected = 12 if self.granularity == "month" else 4
        if len(self.weights) != expected:
            raise ValueError(
                f"seasonality.weights needs {expected} values for granularity "
                f"'{self.granularity}', got {len(self.weights)}"
            )
        if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
            raise ValueError("seasonality.weights must be >= 0 with a positive sum")
        return self


class SolverParams(BaseModel):
    """cvxpy solver settings for the quota QP."""

    model_config = ConfigDict(extra="forbid")

    name: Literal["CLARABEL", "OSQP", "SCS"] = Field(
        "CLARABEL",
        description="QP solver shipped with cvxpy. CLARABEL (interior point) is accurate and fast "
        "here; HiGHS is not offered because its QP path took 18 s on 2,000 reps vs 0.05 s",
    )
    time_limit_s: float = Field(60.0, gt=0, description="time limit per solve, seconds")
    relaxation_penalty: float = Field(
        1000.0, gt=0,
        description="weight of a relative breach of a cap or floor when they cannot all hold "
        "(must dominate the deviation objective, whose marginal cost is of order 1)",
    )
    relaxation_spread: Literal["potential", "even"] = Field(
        "potential",
        description="when caps or floors cannot all hold, the smallest total breach is placed where it keeps "
        "quotas closest to potential ('potential'), or spread evenly in percent over the reps whose bound "
        "gives ('even')",
    )
    binding_tolerance: float = Field(
        1e-4, gt=0, lt=0.01,
        description="relative distance under which a quota counts as sitting on its cap or floor",
    )
    verbose: bool = Field(False, description="print the solver log")


class QuotaParams(BaseModel):
    """The ``quotas:`` section: method, over-assignment, ramp, caps, floors, rounding, seasonality, reorg."""

    model_config = ConfigDict(extra="forbid")

    method: Method = Field(
        "potential_index",
        description="ideal quota: 'potential_index' = target x the book's share of potential (x ramp); "
        "'historical' = target x the rep's share of ramp-adjusted past bookings; 'blend' of both",
    )
    blend_weight: float = Field(
        0.5, ge=0, le=1, description="weight of history in the 'blend' method (0 = all potential)"
    )
    history_periods: int = Field(
        4, ge=1, le=40,
        description="past periods of quota_history used for productivity and the historical method",
    )
    over_assignment: OverAssignment = Field(
        default_factory=OverAssignment,
        description="factor per role: children quotas add up to factor x the parent's quota",
    )
    ramp: list[float] = Field(
        default_factory=lambda: [0.25, 0.5, 0.75, 1.0],
        description="productivity factor in month 1, 2, ... after a rep's start_date; the last value "
        "applies afterwards. A rep's ramp factor for the period is the average over its days (0 "
        "before the start), so open headcount is pro-rated from its planned start",
    )
    max_increase: float | None = Field(
        0.25, ge=0,
        description="cap on the rise vs last period's quota for continuing reps (0.25 = +25%); "
        "null = no cap. Continuing = active, fully ramped, with a quota last period",
    )
    max_decrease: float | None = Field(
        0.25, ge=0, le=1,
        description="cap on the fall vs last period's quota for continuing reps (0.25 = -25%); null = no cap",
    )
    floor_share: float | None = Field(
        None, ge=0, le=1, description="floor as a share of the rep's ideal quota (0.8 = at least 80%)"
    )
    floor_amount: float | None = Field(
        None, ge=0,
        description="absolute floor for a fully ramped rep, scaled by the rep's ramp factor",
    )
    rounding: float | None = Field(
        1000.0, gt=0,
        description="rep quotas are rounded to multiples of this (largest remainder, inside caps "
        "and floors) while every level still sums exactly; null = no rounding",
    )
    seasonality: SeasonalityParams = Field(
        default_factory=SeasonalityParams, description="split of the period quota into months or quarters"
    )
    reorg: dict[str, str] = Field(
        default_factory=dict,
        description="moves in the hierarchy for this plan: rep_id -> new manager_id; everything re-rolls",
    )
    capacity_min_observations: int = Field(
        4, ge=1,
        description="fewest past rep-periods a segment x region needs for its own productivity; "
        "below it the company-wide productivity is used",
    )
    solver: SolverParams = Field(default_factory=SolverParams, description="solver settings")

    @field_validator("ramp")
    @classmethod
    def _check_ramp(cls, ramp: list[float]) -> list[float]:
        if not ramp:
            raise ValueError("ramp needs at least one value (use [1.0] for no ramp)")
        if any(not 0 <= r <= 1 for r in ramp):
            raise ValueError("ramp values are factors between 0 and 1")
        if ramp[-1] != 1.0:
            raise ValueError("the last ramp value applies to every fully ramped rep and must be 1.0")
        return ramp
