"""Quotas aligned with potential, down the hierarchy, reconciled with capacity.

``set_quotas`` is the entry point; ``QuotaParams`` its parameters section; the
charts module draws the figures of the notebook.
"""

from plan_lib.quotas.api import Diagnostic, QuotaResult, set_quotas
from plan_lib.quotas.charts import quota_vs_potential, rollup_by_level
from plan_lib.quotas.params import OverAssignment, QuotaParams, SeasonalityParams, SolverParams

__all__ = [
    "Diagnostic",
    "OverAssignment",
    "QuotaParams",
    "QuotaResult",
    "SeasonalityParams",
    "SolverParams",
    "quota_vs_potential",
    "rollup_by_level",
    "set_quotas",
]
