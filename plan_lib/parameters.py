"""The parameters file: one YAML per plan period or scenario, validated on load.

Every run reads its settings through :func:`load_parameters`, never through
``yaml.safe_load`` directly, so that an unknown key, a wrong type or a date in
the wrong format stops the run with a message that names the key, and so that
papermill (which injects parameters as strings) cannot change their meaning.
Each pipeline step owns the model of its own section; this module composes them.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from plan_lib.errors import ParameterError

PERIOD_PATTERN = re.compile(r"^(\d{4})Q([1-4])$")


def parse_iso_date(value: Any) -> dt.date:
    """Accept a date or an ISO ``YYYY-MM-DD`` string and nothing else (no numbers, no guessing)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"expected a date written YYYY-MM-DD, got {value!r}")


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a ``YYYYQn`` period."""
    match = PERIOD_PATTERN.match(period)
    if not match:
        raise ValueError(f"expected a period like 2027Q1, got {period!r}")
    year, quarter = int(match.group(1)), int(match.group(2))
    start = dt.date(year, 3 * quarter - 2, 1)
    end_month = 3 * quarter
    end = (dt.date(year + (end_month == 12), end_month % 12 + 1, 1)) - dt.timedelta(days=1)
    return start, end


class StrictModel(BaseModel):
    """Base of every parameters section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


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


def _key_of(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location) or "(top level)"


def parse_parameters(raw: Any, source: str = "<parameters>") -> PlanParameters:
    """Validate an already-loaded mapping; errors name every offending key."""
    if not isinstance(raw, dict):
        raise ParameterError(source, "(top level)", "expected a mapping of keys to values")
    try:
        return PlanParameters.model_validate(raw)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            key = _key_of(item["loc"])
            message = "unknown key (check the spelling; see README 'Parameters')" if item["type"] == "extra_forbidden" else item["msg"]
            problems.append((key, message))
        key, message = problems[0]
        if len(problems) > 1:
            message += "; also " + "; ".join(f"'{k}': {m}" for k, m in problems[1:])
        raise ParameterError(source, key, message) from None


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
