"""Seeded, realistic demo data for tqp on real US geography.

``generate_demo_data`` builds every table of the data contract
(``plan_lib.contract``) plus the hidden ground truth behind them;
``write_demo_data`` writes them as CSV or Parquet. The modules hold one
concern each and document their assumptions:

- ``firmographics``: accounts (location, industry, size, families, customers)
- ``signals``: intent signals and activities
- ``propensity``: the hidden true win probability (exact formula)
- ``roster``: reps, managers, directors, the VP; open and leaving headcount;
  last period's books, cut by ``bisection`` to uneven capacities
- ``territories``: history's noise on those books (current_owner)
- ``opportunities``: CRM history and the period's bookings trends
- ``plans``: targets and quota history
- ``segments``: the default segment rules (``DEFAULT_SEGMENT_RULES``)
- ``tables`` / ``writer``: contract frames, and CSV/Parquet files

All amounts are in one currency; annual_revenue and current_arr are per year,
opportunity amounts are first-year values.
"""

from plan_lib.demo.calendar import DemoDataError, Period
from plan_lib.demo.generator import DemoData, DemoParameters, generate_demo_data
from plan_lib.demo.segments import DEFAULT_SEGMENT_RULES, SEGMENTS, SegmentRule
from plan_lib.demo.writer import write_demo_data

__all__ = [
    "DEFAULT_SEGMENT_RULES",
    "SEGMENTS",
    "DemoData",
    "DemoDataError",
    "DemoParameters",
    "Period",
    "SegmentRule",
    "generate_demo_data",
    "write_demo_data",
]
