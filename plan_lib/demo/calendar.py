"""Plan periods and the dates the generator derives from them.

Dates inside the generator are whole days since 1970-01-01 held in int64
numpy arrays: sampling, adding and comparing them is then plain integer
arithmetic, vectorised over millions of rows; they become dates only when the
contract tables are assembled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from plan_lib.errors import TqpError

_PERIOD_RE = re.compile(r"^(\d{4})Q([1-4])$")


class DemoDataError(TqpError):
    """The demo generator was asked for something it cannot produce."""


def day(iso: str) -> int:
    """Day number (days since 1970-01-01) of an ISO date."""
    return int(np.datetime64(iso, "D").astype(np.int64))


def add_months(day_number: int, months: int) -> int:
    """The same day of the month ``months`` later (earlier if negative); day 1 stays day 1."""
    d = np.datetime64(day_number, "D")
    month = d.astype("datetime64[M]") + np.timedelta64(months, "M")
    offset = d - d.astype("datetime64[M]").astype("datetime64[D]")
    return int((month.astype("datetime64[D]") + offset).astype(np.int64))


@dataclass(frozen=True)
class Period:
    """A calendar quarter such as ``2027Q1``; ``start`` and ``end`` are inclusive day numbers."""

    year: int
    quarter: int

    @classmethod
    def parse(cls, label: str) -> Period:
        match = _PERIOD_RE.match(str(label).strip().upper())
        if not match:
            raise DemoDataError(
                f"period '{label}' is not a quarter: write it as YYYYQn, for example 2027Q1"
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def start(self) -> int:
        return day(f"{self.year}-{3 * (self.quarter - 1) + 1:02d}-01")

    @property
    def end(self) -> int:
        return self.shift(1).start - 1

    @property
    def days(self) -> int:
        return self.end - self.start + 1

    def shift(self, quarters: int) -> Period:
        index = self.year * 4 + (self.quarter - 1) + quarters
        return Period(index // 4, index % 4 + 1)


@dataclass(frozen=True)
class Timeline:
    """Every date window of one demo data set, derived from the plan period.

    - snapshot: the day before the period starts; history is "as of" this day.
    - history_start: 30 months before the period (2024-07-01 for 2027Q1).
    - intent_start: the intent feed starts 18 months before the period.
    - activity_start: 90 days before history_start, so the oldest opportunity
      already sees a full 90-day activity window.
    - extract: the last day in the files (period end): opportunities created or
      closing in the period carry their final outcome, later ones are open.
    """

    period: Period

    @property
    def snapshot(self) -> int:
        return self.period.start - 1

    @property
    def history_start(self) -> int:
        return add_months(self.period.start, -30)

    @property
    def intent_start(self) -> int:
        return add_months(self.period.start, -18)

    @property
    def activity_start(self) -> int:
        return self.history_start - 90

    @property
    def extract(self) -> int:
        return self.period.end


def to_datetime64(days: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Day numbers to ``datetime64[s]`` (pandas' date column type); NaT where ``missing``."""
    out = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[s]")
    if missing is not None:
        out[np.asarray(missing, dtype=bool)] = np.datetime64("NaT", "s")
    return out
