"""Parameters of the fairness analysis (the ``fairness:`` section of a parameters file).

A criterion is data, not code: a per-rep (or per-account) column, an
aggregate, a scope and thresholds. The company agrees on the list before the
plan is drafted; ``tqp lock`` then checks the refined plan against it. Users
add a criterion in YAML, e.g.::

    fairness:
      extra_criteria:
        - {name: workload_spread, column: workload, per_fte: true, aggregate: cv,
           scope: segment, warn: 0.2, fail: 0.3}

Semantics (see ``criteria.py`` for the exact formulas):

- ``per: rep``: ``column`` is a column of the per-rep metrics table (``REP_COLUMNS``)
  or a numeric account column, summed over each rep's book. Only reps carrying a
  book are measured. Aggregates: ``max_rel_dev`` (largest |value / group mean - 1|),
  ``max_abs_dev`` (largest |value - group mean|), ``max``, ``min``, ``cv``, ``gini``.
- ``per: account``: ``column`` is an account flag or number; aggregates ``share``
  (weighted share of accounts where the column is true, rows where it is missing
  left out) and ``mean``.
- ``scope``: the groups compared (``segment``, ``region``, ``segment_region``, ``all``);
  the criterion's value is its worst group.
- thresholds: a value above ``warn`` warns, above ``fail`` fails (below, for ``min``).
  Warnings are reported; a failure blocks the lock unless it is waived.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from plan_lib.paramtypes import StrictModel

Aggregate = Literal["max_rel_dev", "max_abs_dev", "max", "min", "cv", "gini", "share", "mean"]
Scope = Literal["segment", "region", "segment_region", "all"]

REP_AGGREGATES = ("max_rel_dev", "max_abs_dev", "max", "min", "cv", "gini")
ACCOUNT_AGGREGATES = ("share", "mean")
#: Aggregates whose group value is a spread; each rep is then measured against the group mean.
RELATIVE_AGGREGATES = ("max_rel_dev", "max_abs_dev", "cv", "gini")


#: Labels of the default criteria (a criterion of that name written in YAML without a label reads the same);
#: no numbers in them: the thresholds are shown next to the label and may be changed.
DEFAULT_LABELS = {
    "potential_per_fte": "Potential per FTE close to the segment mean",
    "territory_quality": "Territory quality (mean potential per account) alike within a segment",
    "intent_share": "Fair share of in-market (intent-weighted) potential per FTE",
    "customer_share": "Customer share of each book close to the segment's",
    "workload_cv": "Workload per FTE: coefficient of variation within a segment",
    "quota_to_potential": "Quota / potential ratio flat within a segment (ramp-adjusted)",
    "gini_potential_per_fte": "Gini coefficient of potential per FTE within a segment",
    "disruption_accounts": "Disruption: share of accounts that changed owner",
    "disruption_potential": "Disruption: share of potential that changed owner",
    "disruption_arr": "Disruption: share of customer ARR that changed owner",
    "exceptions_creep": "Exceptions creep: share of accounts under a manual override",
}


class Criterion(StrictModel):
    """One fairness check: a per-rep or per-account measure, an aggregate, a scope and thresholds."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="identifier (lower case, digits, _); waivers name it")
    label: str = Field("", description="the sentence a sales leader reads in the report (default: the default criterion's, else built from the fields)")
    column: str = Field(description="per-rep metric column, or account column (summed per rep for per: rep)")
    per: Literal["rep", "account"] = Field("rep", description="measure each rep's book, or each account")
    aggregate: Aggregate = Field(description="how the values of a group become one number (see the module docstring)")
    scope: Scope = Field("segment", description="groups compared: segment, region, segment_region or all")
    per_fte: bool = Field(False, description="per rep: divide the column by the rep's FTE first")
    weight: str | None = Field(
        None,
        description="column weighting the group mean (and cv, gini) or the account share; e.g. fte, so that "
        "the segment mean of potential per FTE is segment potential / segment FTE; empty: every rep or account counts once",
    )
    warn: float | None = Field(None, description="warn when the value is beyond this (above; below for min)")
    fail: float | None = Field(None, description="fail when the value is beyond this (above; below for min)")
    enabled: bool = Field(True, description="false: keep the criterion in the file but do not check it")

    @model_validator(mode="after")
    def _consistent(self) -> Criterion:
        if self.warn is None and self.fail is None:
            raise ValueError(f"criterion '{self.name}' needs a warn or a fail threshold")
        allowed = REP_AGGREGATES if self.per == "rep" else ACCOUNT_AGGREGATES
        if self.aggregate not in allowed:
            raise ValueError(f"criterion '{self.name}': aggregate '{self.aggregate}' is for per: "
                             f"{'account' if self.per == 'rep' else 'rep'}; with per: {self.per} use one of {', '.join(allowed)}")
        if self.per == "account" and self.per_fte:
            raise ValueError(f"criterion '{self.name}': per_fte applies to per: rep only")
        if self.warn is not None and self.fail is not None:
            if self.below and self.warn < self.fail:
                raise ValueError(f"criterion '{self.name}': with aggregate min, warn ({self.warn}) must be >= fail ({self.fail})")
            if not self.below and self.warn > self.fail:
                raise ValueError(f"criterion '{self.name}': warn ({self.warn}) must be <= fail ({self.fail})")
        return self

    @property
    def below(self) -> bool:
        """True when low values are bad (aggregate ``min``)."""
        return self.aggregate == "min"

    @property
    def title(self) -> str:
        if self.label or self.name in DEFAULT_LABELS:
            return self.label or DEFAULT_LABELS[self.name]
        what = f"{self.column} per FTE" if self.per_fte else self.column
        return f"{self.aggregate} of {what} by {self.scope}"


def default_criteria() -> list[Criterion]:
    """The company's starting list, drawn from practice; thresholds are shares (0.05 = 5%)."""
    return [
        Criterion(name="potential_per_fte", column="potential_per_fte", aggregate="max_rel_dev", weight="fte", warn=0.04, fail=0.05),
        Criterion(name="territory_quality", column="potential_per_account", aggregate="cv", warn=0.20, fail=0.35),
        Criterion(name="intent_share", column="intent_potential_per_fte", aggregate="max_rel_dev", weight="fte", warn=0.15, fail=0.30),
        Criterion(name="customer_share", column="customer_share", aggregate="max_abs_dev", weight="accounts", warn=0.10, fail=0.20),
        Criterion(name="workload_cv", column="workload_per_fte", aggregate="cv", weight="fte", warn=0.15, fail=0.25),
        Criterion(name="quota_to_potential", column="quota_to_ramped_potential", aggregate="max_rel_dev", weight="ramped_potential", warn=0.10, fail=0.20),
        Criterion(name="gini_potential_per_fte", column="potential_per_fte", aggregate="gini", weight="fte", warn=0.025, fail=0.05),
        Criterion(name="disruption_accounts", column="changed_owner", per="account", aggregate="share", scope="all", warn=0.20, fail=0.35),
        Criterion(name="disruption_potential", column="changed_owner", per="account", aggregate="share", scope="all", weight="potential", warn=0.20, fail=0.35),
        Criterion(name="disruption_arr", column="changed_owner", per="account", aggregate="share", scope="all", weight="current_arr", warn=0.10, fail=0.20),
        Criterion(name="exceptions_creep", column="overridden", per="account", aggregate="share", scope="all", warn=0.10),
    ]


class FairnessParams(StrictModel):
    """The ``fairness`` section: the criteria a plan must meet before it is locked."""

    criteria: list[Criterion] = Field(
        default_factory=default_criteria,
        description="the criteria checked (setting this list replaces the defaults; see extra_criteria to add one)",
    )
    extra_criteria: list[Criterion] = Field(default_factory=list, description="criteria added to `criteria`")
    report_rows: int = Field(25, ge=1, le=1000, description="breaking reps listed per criterion in the HTML report")

    @model_validator(mode="after")
    def _unique_names(self) -> FairnessParams:
        names = [c.name for c in self.criteria + self.extra_criteria]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"criterion names must be unique; repeated: {', '.join(duplicated)}")
        return self

    @property
    def active(self) -> list[Criterion]:
        """The criteria checked, in report order."""
        return [c for c in self.criteria + self.extra_criteria if c.enabled]
