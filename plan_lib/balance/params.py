"""Parameters of the balancing step (the ``balance`` section of the parameters file).

Every weight is expressed in one currency, "km per account": the objective is
the mean, over the accounts of a balance group, of (weighted) distance to the
rep's home, plus penalties converted into the same unit. That makes the knobs
comparable: ``continuity_weight = 100`` says "moving an average account is as
bad as making its trip 100 km longer"; a soft band weight of 50 says "one
percentage point of excess deviation, averaged over the reps, costs 0.5 km per
account". Defaults are chosen so that the hard band always wins, continuity
comes next and compactness decides the rest.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class SoftBand(_Strict):
    """A penalised (not hard) band around the segment mean, per FTE."""

    enabled: bool = Field(True, description="include this band in the objective")
    width: float = Field(
        0.15,
        ge=0,
        description="half-width of the band relative to the segment mean per FTE (0.15 = +/-15%); "
        "for customer_share: relative to the segment's customer share",
    )
    weight: float = Field(
        50.0,
        ge=0,
        description="km per account charged for a deviation beyond the band of 1.0 (100%) "
        "averaged over the reps of the segment",
    )


class SoftBands(_Strict):
    """The four penalised balance criteria of issue 4 (all per FTE, against the segment mean)."""

    workload: SoftBand = Field(
        default_factory=lambda: SoftBand(width=0.15, weight=50.0),
        description="effort per FTE (the accounts' `workload` column)",
    )
    accounts: SoftBand = Field(
        default_factory=lambda: SoftBand(width=0.20, weight=20.0),
        description="number of accounts per FTE",
    )
    customer_share: SoftBand = Field(
        default_factory=lambda: SoftBand(width=0.25, weight=20.0),
        description="share of customers in the book, linearised: customers - share x accounts "
        "within +/- width x share x (mean accounts per FTE) x FTE",
    )
    intent: SoftBand = Field(
        default_factory=lambda: SoftBand(width=0.15, weight=20.0),
        description="intent-weighted potential per FTE (the `intent_potential` column)",
    )


class Protection(_Strict):
    """Rules that keep an account with its current owner whatever the balance says."""

    open_opportunity_customers: bool = Field(
        True,
        description="a customer with an open opportunity keeps its owner (when the owner still "
        "carries a book in the account's balance group)",
    )


class Eligibility(_Strict):
    """Who may own what. Precedence, most specific first: named accounts, vertical
    specialists, region, segment. Locks (parameters or review overrides) beat all of them."""

    region: bool = Field(
        False,
        description="accounts go only to reps of their own region (then each segment x region is "
        "an independent subproblem; the band still refers to the segment mean)",
    )
    vertical_specialists: dict[str, list[str]] = Field(
        default_factory=dict,
        description="industry -> rep_ids: accounts of that industry go only to those reps "
        "(restricted to the account's segment)",
    )
    specialists_exclusive: bool = Field(
        True,
        description="vertical specialists carry only accounts of their industries",
    )
    named_accounts: dict[str, str] = Field(
        default_factory=dict,
        description="account_id -> rep_id: named accounts go to that rep (its family with it)",
    )


class BalanceParams(_Strict):
    """Settings of the balancing optimisation (see ``TerritoryModel`` for the formulation)."""

    tau: float = Field(
        0.03,
        ge=0,
        le=1,
        description="hard band: potential per FTE of every rep within +/- tau of its segment mean",
    )
    balance_metric: str = Field(
        "potential",
        description="accounts column balanced by the hard band (e.g. potential, workload)",
    )
    soft_bands: SoftBands = Field(
        default_factory=SoftBands, description="penalised balance criteria"
    )
    compactness_weight: float = Field(
        1.0,
        ge=0,
        description="multiplier of the weighted distance (or supplied cost) in the objective",
    )
    compactness_basis: dict[str, float] = Field(
        default_factory=lambda: {"potential": 0.9, "accounts": 0.1},
        description="how each account's distance is weighted: column -> share ('accounts' = 1 per "
        "account); each column is scaled to mean 1 within the segment",
    )
    continuity_weight: float = Field(
        100.0, ge=0, description="km per account charged for moving an account of average weight"
    )
    continuity_basis: dict[str, float] = Field(
        default_factory=lambda: {"potential": 0.5, "current_arr": 0.5},
        description="what a move costs: column -> share, each column scaled to mean 1 within the "
        "segment (potential and ARR by default)",
    )
    max_move_share: float | None = Field(
        None,
        ge=0,
        le=1,
        description="cap on the share of a segment's accounts moved away from an owner who still "
        "carries a book (forced moves, e.g. from leaving reps, do not count)",
    )
    protection: Protection = Field(
        default_factory=lambda: Protection(), description="owner protection rules"
    )
    eligibility: Eligibility = Field(
        default_factory=lambda: Eligibility(), description="eligibility rules"
    )
    k_nearest: int = Field(
        6,
        ge=1,
        description="initial candidates: the k cheapest eligible reps of each account family",
    )
    long_range: int = Field(
        2,
        ge=0,
        description="extra initial candidates per family: the nearest reps that cannot reach their "
        "band from their natural area; pricing adds any other column the LP needs",
    )
    all_pairs_max: int = Field(
        100_000,
        ge=0,
        description="below this many (family x eligible rep) pairs, every pair is a candidate (no pricing needed)",
    )
    exact_mip_max_vars: int = Field(
        500,
        ge=0,
        description="below this many candidate pairs, solve the MILP directly instead of LP + repair",
    )
    max_pricing_rounds: int = Field(
        12, ge=0, description="column-generation rounds before giving up on the full LP"
    )
    pricing_gap: float = Field(
        1e-4,
        ge=0,
        description="stop pricing once the restricted LP is within this share of the Lagrangian "
        "bound of the full problem (the bound reported)",
    )
    contest_margin: float = Field(
        0.25,
        ge=0,
        description="large groups: a family is held fixed while its best rep beats the second by more "
        "than this many typical price errors (pricing frees it if that changes); larger = bigger, safer LPs",
    )
    repair_neighbours: int = Field(
        30,
        ge=0,
        description="integral families per touched rep that the repair MILP may also move "
        "(the ones with the smallest reduced-cost regret)",
    )
    repair_max_units: int = Field(
        3_000,
        ge=1,
        description="cap on the families of one repair MILP (fewer neighbours per rep when many reps are touched)",
    )
    repair_window_reps: int = Field(
        24,
        ge=2,
        description="groups with more reps repair the LP rounding window by window: reps that share "
        "families are grouped into windows of at most this many, each a small MILP (many small "
        "MILPs prove their gap far faster than one large one)",
    )
    time_limit: float = Field(
        120.0,
        gt=0,
        description="seconds per solver call (a MILP stopped by it keeps its best solution)",
    )
    repair_time_limit: float = Field(
        20.0,
        gt=0,
        description="seconds for one integer-repair MILP; lumpy groups (few, very unequal accounts per "
        "rep) cannot prove a small gap quickly, so the best solution found by then is kept",
    )
    mip_gap: float = Field(
        2e-3,
        ge=0,
        le=1,
        description="HiGHS stops a MILP within this relative gap of the group's objective (a repair "
        "MILP: within this share of the LP bound, in absolute terms)",
    )
    parallel: Literal["auto", "sync", "threads", "processes", "local_cluster"] = Field(
        "auto",
        description="how subproblems run: auto = in process for small plans, a Dask local cluster "
        "otherwise (ignored when a scheduler address is given)",
    )
    scheduler_address: str | None = Field(
        None,
        description="Dask scheduler address (tcp://host:8786) to run subproblems on; None = local",
    )
    n_workers: int | None = Field(
        None, ge=1, description="local cluster workers (default: one per core)"
    )
    seed: int = Field(0, description="solver random seed (HiGHS), for identical runs")

    @field_validator("compactness_basis", "continuity_basis")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        if any(v < 0 for v in value.values()):
            raise ValueError("shares must be >= 0")
        return value

    @model_validator(mode="after")
    def _metric_is_a_column(self) -> BalanceParams:
        if self.balance_metric in ("", "accounts"):
            raise ValueError(
                "balance_metric must name a numeric accounts column such as 'potential'"
            )
        return self
