"""Building blocks of every parameters section: strict models, dates, periods, errors.

Kept apart from ``plan_lib.parameters`` (which composes the sections) so that
each step's own parameters module can use them without an import cycle.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

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


def _key_of(location: tuple[Any, ...], prefix: str = "") -> str:
    parts = [prefix] if prefix else []
    parts += [str(part) for part in location]
    return ".".join(parts) or "(top level)"


def parameter_error(error: ValidationError, source: str, prefix: str = "") -> ParameterError:
    """One ParameterError naming every offending key of a pydantic ValidationError."""
    problems = []
    for item in error.errors():
        message = "unknown key (check the spelling; see README 'Parameters')" if item["type"] == "extra_forbidden" else item["msg"]
        problems.append((_key_of(item["loc"], prefix), message))
    key, message = problems[0]
    if len(problems) > 1:
        message += "; also " + "; ".join(f"'{k}': {m}" for k, m in problems[1:])
    return ParameterError(source, key, message)
