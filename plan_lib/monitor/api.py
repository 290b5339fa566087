"""Entry point of the monitoring step: ``monitor_plan`` reads top to bottom as the recipe.

>>> result = monitor_plan(tables, assignments, quotas, books, MonitorParams(), as_of, period_start, period_end)
>>> result.attainment       # per level and unit: quota, bookings, attainment, pacing, coverage, pipeline by stage
>>> result.forecast         # per level and unit: period-end bookings and attainment with interval, P(reach quota), trend tests
>>> result.recommendations  # resize / headcount / rep_leaving / invest, each with numbers and reasoning
>>> result.flags            # off_track / low_coverage / trend_up / trend_down, with the reason
>>> result.report           # JSON-serialisable summary for the manifest

Pure: no file I/O (the orchestration layer writes ``data/attainment.parquet`` and the rest).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from plan_lib.errors import InputError, ParameterError
from plan_lib.jsonable import to_jsonable
from plan_lib.monitor.actuals import actuals_as_of, day_number, win_rates
from plan_lib.monitor.attainment import attainment_table, elapsed_share
from plan_lib.monitor.flags import unit_flags
from plan_lib.monitor.forecast import forecast_units
from plan_lib.monitor.params import ALL_LEVELS, MonitorParams
from plan_lib.monitor.plan import build_plan
from plan_lib.monitor.recommend import recommend


@dataclass
class MonitorResult:
    """What a monitoring run produces (see README 'Monitoring' for every column)."""

    attainment: pd.DataFrame
    forecast: pd.DataFrame
    recommendations: pd.DataFrame
    flags: pd.DataFrame
    report: dict[str, Any]
    weekly: pd.DataFrame  # observed weekly bookings and fitted values; cumulative forecast with band (charts)
    moves: pd.DataFrame  # accounts to move per recommendation (resize, rep_leaving)
    quota_changes: pd.DataFrame  # pro-rated quotas per recommendation


def resolve_as_of(opportunities: pd.DataFrame, as_of: dt.date | None, params: MonitorParams,
                  period_end: dt.date) -> tuple[dt.date, str]:
    """The monitoring day: the argument, else the parameters, else the latest date in the extract (capped at the period end)."""
    if as_of is not None:
        return as_of, "argument"
    if params.as_of is not None:
        return params.as_of, "parameters"
    latest = None
    for column in ("close_date", "created_date"):
        if column in opportunities.columns and len(opportunities):
            value = pd.to_datetime(opportunities[column], errors="coerce").max()
            if pd.notna(value):
                latest = value.date() if latest is None else max(latest, value.date())
    if latest is None:
        raise InputError("opportunities", "no dated opportunity to infer the monitoring day from",
                         fix="pass as_of (tqp monitor --as-of YYYY-MM-DD) or set monitor.as_of")
    return min(latest, period_end), "latest date in the opportunities"


def monitor_plan(
    tables: dict[str, pd.DataFrame],
    assignments: pd.DataFrame,
    quotas: pd.DataFrame,
    books: pd.DataFrame | None = None,
    params: MonitorParams | None = None,
    as_of: dt.date | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
) -> MonitorResult:
    """Attainment, forecasts, flags and recommendations of a plan as of a day.

    ``tables``: the clean input tables (accounts, reps, opportunities; optionally
    ``scores`` from the scoring step for account potential). ``assignments``: the
    plan's account -> rep (balance step, after overrides). ``quotas``: the quota
    step's quotas table. ``books``: the balance step's books (FTE), optional.
    """
    params = params or MonitorParams()
    if period_start is None or period_end is None:
        raise ParameterError("parameters", "period_start/period_end", "the monitored period is needed (set period in the parameters file)")
    if period_end < period_start:
        raise ParameterError("parameters", "period_end", f"period_end {period_end} is before period_start {period_start}")
    if "opportunities" not in tables:
        raise InputError("opportunities", "table missing from the monitored data", fix="monitoring needs the CRM opportunities")
    clock = {"start": time.perf_counter()}
    as_of, source = resolve_as_of(tables["opportunities"], as_of, params, period_end)

    # 1. the plan and the actuals as of the day
    plan = build_plan(tables, assignments, quotas, books)
    clock["plan"] = time.perf_counter()
    actuals = actuals_as_of(tables["opportunities"], plan, as_of, period_start, period_end, params.credit)
    rate, company_rate = win_rates(actuals, plan, params.win_rate_days, params.win_rate_prior)
    clock["actuals"] = time.perf_counter()

    # 2. attainment, pacing, coverage (every level the other steps need is included)
    needed = set(params.levels) | set(params.forecast.levels) | set(params.flags.levels) | {"rep", "company", params.invest.level}
    levels = [lv for lv in ALL_LEVELS if lv in needed]
    attainment = attainment_table(plan, actuals, rate, company_rate, params.model_copy(update={"levels": levels}),
                                  period_start, period_end)
    clock["attainment"] = time.perf_counter()

    # 3. forecasts and trend tests
    forecast = forecast_units(plan, actuals, attainment, params)
    clock["forecast"] = time.perf_counter()

    # 4. flags and recommendations
    elapsed = elapsed_share(period_start, period_end, as_of)
    days_elapsed = max(0, min(day_number(as_of), day_number(period_end)) - day_number(period_start) + 1)
    flags = unit_flags(attainment, forecast.forecast, params, elapsed)
    recs = recommend(plan, attainment, actuals, params, as_of, period_start, period_end, elapsed, days_elapsed)
    clock["recommend"] = time.perf_counter()

    shown = attainment[attainment["level"].isin(params.levels)].reset_index(drop=True)
    company = attainment[attainment["level"] == "company"].to_dict("records")[0]
    company_fc = forecast.forecast[forecast.forecast["level"] == "company"]
    reps = attainment[attainment["level"] == "rep"]
    stages = ["plan", "actuals", "attainment", "forecast", "recommend"]
    marks = [clock["start"]] + [clock[s] for s in stages]
    report: dict[str, Any] = {
        "as_of": as_of, "as_of_source": source, "period_start": period_start, "period_end": period_end,
        "elapsed_share": elapsed, "days_elapsed": days_elapsed, "credit": params.credit,
        "accounts": plan.n_accounts, "reps": plan.n_reps, "opportunities_as_of": int(len(actuals.amount)),
        "open_opportunities": int(actuals.open_now.sum()), "company_win_rate": company_rate,
        "company": {k: float(company[k]) for k in ("quota", "bookings", "attainment", "expected_share", "pacing", "open_pipeline",
                                                   "expected_pipeline", "coverage", "penetration")},
        "company_forecast": {k: float(company_fc[k].to_numpy(dtype=float)[0]) for k in (
            "forecast_bookings", "lower", "upper", "attainment_forecast", "prob_reach_quota")} if len(company_fc) else None,
        "reps_on_track_share": float(reps["on_track"].mean()) if len(reps) else None,
        "forecast": forecast.report,
        "flags": flags["flag"].value_counts().sort_index().to_dict(),
        "recommendations": recs.table["kind"].value_counts().sort_index().to_dict(),
        "accounts_to_move": int(len(recs.moves)),
        "notes": plan.notes + actuals.notes + recs.notes,
        "seconds": {s: round(b - a, 3) for s, a, b in zip(stages, marks[:-1], marks[1:], strict=True)},
    }
    report["seconds"]["total"] = round(marks[-1] - marks[0], 3)
    return MonitorResult(shown, forecast.forecast, recs.table, flags, to_jsonable(report), forecast.weekly, recs.moves,
                         recs.quota_changes)
