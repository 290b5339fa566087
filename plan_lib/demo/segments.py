"""Segment rules: the default the demo data is built with (and the pipeline may reuse).

Rules are read top to bottom and the first match wins; a rule matches when the
account has at least ``min_employees`` employees OR at least
``min_annual_revenue`` of revenue per year. Accounts of a family take their
parent's segment, so a family never straddles two segments' books.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEGMENTS: tuple[str, ...] = ("Enterprise", "Mid-Market", "SMB")


@dataclass(frozen=True)
class SegmentRule:
    segment: str
    min_employees: int
    min_annual_revenue: float


#: Enterprise: >= 1000 employees or >= 250M revenue; Mid-Market: >= 100 or >= 20M; else SMB.
DEFAULT_SEGMENT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("Enterprise", 1000, 250_000_000.0),
    SegmentRule("Mid-Market", 100, 20_000_000.0),
    SegmentRule("SMB", 0, 0.0),
)


def segment_codes(
    employees: np.ndarray,
    annual_revenue: np.ndarray,
    parent: np.ndarray,
    rules: tuple[SegmentRule, ...] = DEFAULT_SEGMENT_RULES,
) -> np.ndarray:
    """Index into ``SEGMENTS`` of each account; ``parent`` is the parent's row or -1."""
    codes = np.full(len(employees), -1, dtype=np.int8)
    for rule in rules:
        hit = (codes < 0) & (
            (employees >= rule.min_employees) | (annual_revenue >= rule.min_annual_revenue)
        )
        codes[hit] = SEGMENTS.index(rule.segment)
    is_child = parent >= 0
    codes[is_child] = codes[parent[is_child]]
    return codes
