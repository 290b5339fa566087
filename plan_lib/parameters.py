"""The parameters file: one YAML per plan period or scenario, validated on load.

Every run reads its settings through :func:`load_parameters`, never through
``yaml.safe_load`` directly, so that an unknown key, a wrong type or a date in
the wrong format stops the run with a message that names the key, and so that
papermill (which injects parameters as strings) cannot change their meaning.
Each pipeline step owns the model of its own section; this module composes them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from plan_lib.balance.params import BalanceParams
from plan_lib.errors import ParameterError
from plan_lib.fairness.params import FairnessParams
from plan_lib.maps.params import MapParams
from plan_lib.monitor.params import MonitorParams
from plan_lib.paramtypes import StrictModel, parameter_error, parse_iso_date, period_bounds
from plan_lib.quotas.params import QuotaParams
from plan_lib.review.params import ReviewParams
from plan_lib.scoring.params import ScoringParams

__all__ = ["PlanParameters", "IngestParams", "StrictModel", "load_parameters", "parse_parameters", "parse_iso_date", "period_bounds"]

class IngestParams(StrictModel):
    max_quarantine_share: float = Field(
        0.05,
        ge=0,
        le=1,
        description="stop the run when more than this share of a table's rows is quarantined "
        "(a broken extract should not silently shrink the plan)",
    )
    tables: dict[str, str] = Field(
        default_factory=dict,
        description="optional mapping contract table -> file or SQL table name, for sources "
        "whose names differ from the contract",
    )


class PlanParameters(StrictModel):
    """The whole parameters file."""

    period: str = Field(description="plan period, e.g. 2027Q1")
    period_start: dt.date | None = Field(None, description="first day of the period (default: from `period`)")
    period_end: dt.date | None = Field(None, description="last day of the period (default: from `period`)")
    as_of: dt.date | None = Field(
        None, description="data snapshot date for planning: history after it is ignored (default: day before period_start)"
    )
    title: str = Field("", description="a human name for this plan or scenario")
    data: str | None = Field(None, description="input folder (CSV/Parquet) or SQL URL; `--data` overrides it")
    outputs: str = Field("outputs", description="root folder of run folders")
    seed: int = Field(0, description="seed for every random step, so runs are reproducible")
    ingest: IngestParams = Field(default_factory=IngestParams)
    scoring: ScoringParams = Field(default_factory=ScoringParams)
    balance: BalanceParams = Field(default_factory=BalanceParams)
    quotas: QuotaParams = Field(default_factory=QuotaParams)
    maps: MapParams = Field(default_factory=MapParams)
    monitor: MonitorParams = Field(default_factory=MonitorParams)
    review: ReviewParams = Field(default_factory=ReviewParams)
    fairness: FairnessParams = Field(default_factory=FairnessParams)

    @field_validator("period")
    @classmethod
    def _period_format(cls, value: str) -> str:
        period_bounds(value)
        return value

    @field_validator("period_start", "period_end", "as_of", mode="before")
    @classmethod
    def _strict_dates(cls, value: Any) -> Any:
        return None if value is None else parse_iso_date(value)

    @model_validator(mode="after")
    def _fill_dates(self) -> PlanParameters:
        start, end = period_bounds(self.period)
        self.period_start = self.period_start or start
        self.period_end = self.period_end or end
        if self.period_end < self.period_start:
            raise ValueError(f"period_end {self.period_end} is before period_start {self.period_start}")
        self.as_of = self.as_of or (self.period_start - dt.timedelta(days=1))
        return self

    @property
    def start(self) -> dt.date:
        assert self.period_start is not None
        return self.period_start

    @property
    def end(self) -> dt.date:
        assert self.period_end is not None
        return self.period_end

    @property
    def snapshot(self) -> dt.date:
        assert self.as_of is not None
        return self.as_of


def parse_parameters(raw: Any, source: str = "<parameters>") -> PlanParameters:
    """Validate an already-loaded mapping; errors name every offending key."""
    if not isinstance(raw, dict):
        raise ParameterError(source, "(top level)", "expected a mapping of keys to values")
    try:
        return PlanParameters.model_validate(raw)
    except ValidationError as error:
        raise parameter_error(error, source) from None


def load_parameters(path: str | Path) -> PlanParameters:
    """Read and validate a parameters YAML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ParameterError(str(path), "(file)", f"cannot read the file: {error.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ParameterError(str(path), "(file)", f"not valid YAML: {error}") from None
    return parse_parameters(raw, str(path))
