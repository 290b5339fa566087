"""Monitoring (issue 8): attainment, pacing, coverage, forecasts, trend flags and recommended actions.

Entry point :func:`monitor_plan` (module ``api``); parameters :class:`MonitorParams`.
Module map: ``params`` (settings), ``plan`` (the plan as typed arrays), ``actuals``
(opportunities as of a day, bookings, pipeline, win rates), ``units`` (levels and
roll-ups), ``attainment`` (attainment, pacing, coverage), ``statespace`` (weekly
models: statsmodels per unit, pooled and vectorised for many), ``trends``
(trend-change tests), ``forecast`` (period-end forecasts), ``flags``,
``reassign`` (limited rebalances, pro-rated quotas), ``recommend``, ``charts``.
"""

from plan_lib.monitor.actuals import opportunities_as_of
from plan_lib.monitor.api import MonitorResult, monitor_plan
from plan_lib.monitor.params import MonitorParams

__all__ = ["MonitorParams", "MonitorResult", "monitor_plan", "opportunities_as_of"]
