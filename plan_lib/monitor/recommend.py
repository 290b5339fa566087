"""Recommended actions, each with its numbers and the reasoning behind it.

Four kinds (thresholds in ``MonitorParams``; each rule is stated in the
recommendation's ``reasoning`` with the figures that triggered it). ``priority``
is the potential at stake, in currency, so recommendations compare across kinds:
the book's potential beyond (or short of) its fair share (resize), the potential
beyond capacity (headcount), the leaving book's potential (rep_leaving), the
bookings or pipeline shortfall against the company's rates (invest).

- ``resize``: a book whose potential per FTE is more than ``resize.potential_band``
  from its segment mean, or whose expected pipeline per FTE is more than
  ``resize.pipeline_ratio`` times the segment's. Proposal: a limited rebalance of
  the book with its nearest peers (``reassign.rebalance``: plan_lib.balance with
  deals in flight locked and a move cap), the accounts to move, and the quota
  that follows them from the day after as_of.
- ``headcount``: a segment x region (the accounts' region) whose potential per FTE
  serving it exceeds capacity by more than ``headcount.headroom``; capacity is
  ``headcount.capacity_per_fte`` or the plan's own potential per FTE of the
  segment. Proposal: the FTE to add to bring it back to capacity, and the states
  where the gap is largest.
- ``rep_leaving``: a rep of the plan leaving (status 'leaving' while holding a book,
  or named in ``leaving.reps``). Proposal: the book redistributed to the nearest
  colleagues of the segment by the balancer with every other account locked
  (nobody else's account moves), and quotas pro-rated from the effective date.
- ``invest``: a zone (``invest.level``) in the top potential quantile whose
  coverage or penetration is well below the company's. Proposal: where the
  shortfall is, how large, and who covers the zone now.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from plan_lib.balance.errors import BalanceInputError, BalanceSolverError
from plan_lib.errors import SolverError
from plan_lib.monitor.actuals import Actuals
from plan_lib.monitor.params import MonitorParams
from plan_lib.monitor.plan import Plan
from plan_lib.monitor.reassign import (
    Rebalance,
    nearest_peers,
    prorate_quotas,
    rebalance,
    rep_locations,
)
from plan_lib.monitor.units import account_shares
from plan_lib.quotas.capacity import money

#: One recommendation: its table row, the accounts to move and the quota changes (None when not applicable).
Found = tuple[dict[str, Any], pd.DataFrame | None, pd.DataFrame | None]

COLUMNS = ["recommendation_id", "kind", "level", "unit_id", "priority", "headline", "reasoning", "metrics",
           "accounts_to_move", "potential_to_move", "reps_to_add", "effective_date"]


@dataclass
class Recommendations:
    table: pd.DataFrame  # one row per recommendation (COLUMNS)
    moves: pd.DataFrame  # recommendation_id, account_id, from_rep_id, to_rep_id, potential
    quota_changes: pd.DataFrame  # recommendation_id, rep_id, quota_before, quota_after, change, kept_share, effective_date
    notes: list[str] = field(default_factory=list)


def _pct(x: float) -> str:
    return f"{x:+.0%}" if np.isfinite(x) else "n/a"


def _row(kind: str, level: str, unit: str, priority: float, headline: str, reasoning: str, metrics: dict[str, Any],
         moves: pd.DataFrame | None = None, reps_to_add: float = 0.0, effective: dt.date | None = None) -> dict[str, Any]:
    clean = {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in metrics.items()}
    return {
        "kind": kind, "level": level, "unit_id": unit, "priority": float(priority), "headline": headline,
        "reasoning": reasoning, "metrics": json.dumps(clean, default=str, sort_keys=True),
        "accounts_to_move": int(len(moves)) if moves is not None else 0,
        "potential_to_move": float(moves["potential"].sum()) if moves is not None and len(moves) else 0.0,
        "reps_to_add": float(reps_to_add), "effective_date": effective,
    }


def _active(plan: Plan, leaving: set[int]) -> np.ndarray:
    out = (plan.reps["status"].to_numpy() != "leaving") & (plan.reps["fte"].to_numpy(dtype=float) > 0)
    out[list(leaving)] = False
    return out


def _segment_mean(plan: Plan, values: np.ndarray, active: np.ndarray) -> np.ndarray:
    """FTE-weighted mean per FTE of ``values`` over the active reps of each rep's segment."""
    seg = pd.Series(plan.reps["segment"].to_numpy())
    fte = plan.reps["fte"].to_numpy(dtype=float)
    num = pd.Series(np.where(active, values, 0.0)).groupby(seg).transform("sum")
    den = pd.Series(np.where(active, fte, 0.0)).groupby(seg).transform("sum")
    return (num / den.replace(0.0, np.nan)).to_numpy(dtype=float)


def _describe_moves(moves: pd.DataFrame, limit: int = 4) -> str:
    if len(moves) == 0:
        return "no account can move within the limits"
    by = (moves.groupby(["from_rep_id", "to_rep_id"])["potential"].agg(["size", "sum"]).sort_values("sum", ascending=False)
          .reset_index())
    parts = [f"{int(r['size'])} accounts ({money(r['sum'])}) {r['from_rep_id']} -> {r['to_rep_id']}"
             for r in by.head(limit).to_dict("records")]
    more = f" and {len(by) - limit} more flows" if len(by) > limit else ""
    return "; ".join(parts) + more


def _deals_in_flight(plan: Plan, actuals: Actuals) -> np.ndarray:
    mask = actuals.open_now | actuals.won_in_period
    out = np.zeros(plan.n_accounts, dtype=bool)
    acc = actuals.account[mask]
    out[acc[acc >= 0]] = True
    return out


def _safe_rebalance(plan: Plan, members: list[int], params: MonitorParams, notes: list[str], **kwargs: Any) -> Rebalance | None:
    balance = params.balance.model_copy(update=kwargs.pop("balance_update", {}))
    try:
        return rebalance(plan, members, balance, **kwargs)
    except (BalanceInputError, BalanceSolverError, SolverError) as error:
        ids = ", ".join(plan.reps["rep_id"].iloc[members].tolist()[:3])
        notes.append(f"the rebalance around {ids} failed ({error}); no moves proposed there")
        return None


def _resize(plan: Plan, rep_figures: pd.DataFrame, actuals: Actuals, params: MonitorParams, leaving: set[int], as_of: dt.date,
            period: tuple[dt.date, dt.date], notes: list[str]) -> list[Found]:
    cfg = params.resize
    if not cfg.enabled or cfg.max_recommendations == 0:
        return []
    active = _active(plan, leaving)
    fte = plan.reps["fte"].to_numpy(dtype=float)
    potential = plan.reps["potential"].to_numpy(dtype=float)
    pipeline = rep_figures["expected_pipeline"].to_numpy(dtype=float)
    pot_mean = _segment_mean(plan, potential, active)
    pipe_mean = _segment_mean(plan, pipeline, active)
    with np.errstate(divide="ignore", invalid="ignore"):
        deviation = potential / np.where(fte > 0, fte, np.nan) / pot_mean - 1.0
        pipe_ratio = pipeline / np.where(fte > 0, fte, np.nan) / pipe_mean
    out_of_line = active & ((np.abs(deviation) > cfg.potential_band) | (pipe_ratio > cfg.pipeline_ratio))
    severity = np.fmax(np.abs(np.nan_to_num(deviation)) / max(cfg.potential_band, 1e-9), np.nan_to_num(pipe_ratio) / cfg.pipeline_ratio)
    order = np.flatnonzero(out_of_line)
    order = order[np.lexsort((plan.reps["rep_id"].to_numpy()[order], -severity[order]))]
    locks = _deals_in_flight(plan, actuals) if cfg.lock_active_deals else None
    stake = np.abs(potential - np.nan_to_num(pot_mean) * fte)
    locations = rep_locations(plan)
    used = np.zeros(plan.n_reps, dtype=bool)
    rep_ids, segments = plan.reps["rep_id"].to_numpy(dtype=object), plan.reps["segment"].to_numpy(dtype=object)
    results: list[Found] = []
    for seed in order:
        if len(results) >= cfg.max_recommendations:
            break
        if used[seed]:
            continue
        peers = nearest_peers(plan, int(seed), cfg.neighbours, ~active, params.balance.eligibility.region, locations)
        if not peers:
            continue
        members = [int(seed)] + peers
        used[members] = True
        # overloaded: only the seed's accounts may leave; underloaded: the seed keeps its own and receives
        holder = plan.accounts["rep"].to_numpy()
        overloaded = deviation[seed] > 0 or pipe_ratio[seed] > cfg.pipeline_ratio
        fixed = (holder != seed) if overloaded else (holder == seed)
        if locks is not None:
            fixed = fixed | locks
        outcome = _safe_rebalance(plan, members, params, notes, lock_accounts=fixed,
                                  balance_update={"tau": cfg.target_band, "max_move_share": cfg.max_move_share, "parallel": "sync"})
        if outcome is None:
            continue
        rid, segment = str(rep_ids[seed]), str(segments[seed])
        books = outcome.books.set_index("rep_id")
        new_dev = books.at[rid, "potential_after"] / max(fte[seed], 1e-9) / pot_mean[seed] - 1.0
        quota_changes = prorate_quotas(plan, outcome.moves, as_of + dt.timedelta(days=1), *period, params.pacing)
        direction = "overloaded" if overloaded else "underloaded"
        reasons = []
        if abs(deviation[seed]) > cfg.potential_band:
            reasons.append(f"potential per FTE {money(potential[seed] / max(fte[seed], 1e-9))} is {_pct(deviation[seed])} from the "
                           f"{segment} mean {money(pot_mean[seed])} (band +/-{cfg.potential_band:.0%})")
        if pipe_ratio[seed] > cfg.pipeline_ratio:
            reasons.append(f"expected pipeline per FTE is {pipe_ratio[seed]:.1f}x the {segment} mean (limit {cfg.pipeline_ratio:.1f}x)")
        reasoning = (f"{rid}'s book is {direction}: " + "; ".join(reasons) + ". A limited rebalance with its "
                     f"{len(peers)} nearest {segment} peers (at most {cfg.max_move_share:.0%} of their accounts move"
                     + (", accounts with deals in flight stay" if cfg.lock_active_deals else "")
                     + ("; only its own accounts may leave" if overloaded else "; it keeps its own accounts and receives")
                     + f"; balancer status {outcome.status}) proposes: {_describe_moves(outcome.moves)}. "
                     f"{rid}'s deviation goes from {_pct(deviation[seed])} to {_pct(new_dev)}; "
                     f"{money(float(quota_changes['change'].abs().sum() / 2) if len(quota_changes) else 0.0)} of quota follows the "
                     "accounts from tomorrow (pro-rated).")
        metrics = {"potential": float(potential[seed]), "fte": float(fte[seed]), "deviation": float(deviation[seed]),
                   "deviation_after": float(new_dev), "segment_mean_per_fte": float(pot_mean[seed]),
                   "pipeline_ratio": float(pipe_ratio[seed]), "neighbourhood": outcome.reps, "balance_status": outcome.status}
        row = _row("resize", "rep", rid, float(stake[seed]), f"Resize {rid}'s book ({_pct(deviation[seed])} potential per FTE): move "
                   f"{len(outcome.moves)} accounts", reasoning, metrics, outcome.moves, effective=as_of + dt.timedelta(days=1))
        results.append((row, outcome.moves, quota_changes))
    return results


def _headcount(plan: Plan, params: MonitorParams, leaving: set[int]) -> list[Found]:
    cfg = params.headcount
    if not cfg.enabled:
        return []
    acc = plan.accounts
    active = _active(plan, leaving)
    rep = acc["rep"].to_numpy()
    serving = np.where(rep >= 0, active[np.maximum(rep, 0)], False)
    fte_rep = plan.reps["fte"].to_numpy(dtype=float)
    fte_acc = np.where(serving, fte_rep[np.maximum(rep, 0)] * account_shares(plan), 0.0)
    frame = pd.DataFrame({"segment": acc["segment"].to_numpy(), "region": acc["region"].to_numpy(), "state": acc["state"].to_numpy(),
                          "potential": acc["potential"].to_numpy(), "fte": fte_acc})
    cells = frame.groupby(["segment", "region"], sort=True)[["potential", "fte"]].sum()
    reps_active = plan.reps[active]
    plan_capacity = reps_active.groupby("segment")["potential"].sum() / reps_active.groupby("segment")["fte"].sum().replace(0.0, np.nan)
    capacity_of: dict[str, float] = {str(k): float(v) for k, v in plan_capacity.items()} | dict(cfg.capacity_per_fte)
    results: list[Found] = []
    for (segment, region), cell in zip(cells.index, cells.to_dict("records"), strict=True):
        capacity = float(capacity_of.get(segment, np.nan))
        if not np.isfinite(capacity) or capacity <= 0 or cell["potential"] <= 0:
            continue
        per_fte = cell["potential"] / cell["fte"] if cell["fte"] > 0 else np.inf
        needed = cell["potential"] / capacity
        gap = needed - cell["fte"]
        if per_fte <= capacity * (1 + cfg.headroom) or gap < cfg.min_gap_fte:
            continue
        add = float(np.ceil(gap - 1e-9))
        states = frame[(frame["segment"] == segment) & (frame["region"] == region)].groupby("state")[["potential", "fte"]].sum()
        states["gap_fte"] = states["potential"] / capacity - states["fte"]
        top = states.sort_values("gap_fte", ascending=False).head(3)
        where = ", ".join(f"{s} ({g:.1f} FTE short, {money(p)} potential)" for s, (p, _, g) in zip(top.index, top.to_numpy(), strict=True))
        source = "parameters" if segment in cfg.capacity_per_fte else f"the plan's {segment} potential per FTE"
        reasoning = (f"{segment} accounts in {region} hold {money(cell['potential'])} of potential for {cell['fte']:.1f} FTE serving "
                     f"them: {money(per_fte)} per FTE against a capacity of {money(capacity)} ({source}), "
                     f"{per_fte / capacity - 1:+.0%} (limit +{cfg.headroom:.0%}). Bringing it back to capacity takes "
                     f"{needed:.1f} FTE, i.e. {add:.0f} more reps; the gap is largest in {where}.")
        metrics = {"segment": segment, "region": region, "potential": cell["potential"], "fte": cell["fte"],
                   "potential_per_fte": per_fte, "capacity_per_fte": capacity, "fte_needed": needed, "states": top.index.tolist()}
        results.append((_row("headcount", "segment_region", f"{segment} / {region}", cell["potential"] - capacity * cell["fte"],
                             f"Add {add:.0f} {segment} reps in {region}", reasoning, metrics, reps_to_add=add),
                        None, None))
    return results


def leaving_reps(plan: Plan, params: MonitorParams, as_of: dt.date, notes: list[str]) -> dict[int, dt.date]:
    """Plan reps who leave during the period, with the effective date (first day without them)."""
    default = as_of + dt.timedelta(days=1)
    out: dict[int, dt.date] = {}
    holds = plan.reps["accounts"].to_numpy() > 0
    for k in np.flatnonzero((plan.reps["status"].to_numpy() == "leaving") & holds):
        out[int(k)] = default
    index = {r: k for k, r in enumerate(plan.reps["rep_id"])}
    for rid, day in params.leaving.reps.items():
        if rid not in index:
            notes.append(f"leaving.reps names {rid}, who carries no quota in the monitored plan: ignored")
            continue
        out[index[rid]] = day or default
    return out


def _rep_leaving(plan: Plan, params: MonitorParams, departures: dict[int, dt.date], period: tuple[dt.date, dt.date],
                 notes: list[str]) -> list[Found]:
    if not params.leaving.enabled or not departures:
        return []
    active = _active(plan, set(departures))
    locations = rep_locations(plan)
    rep_ids, segments = plan.reps["rep_id"].to_numpy(dtype=object), plan.reps["segment"].to_numpy(dtype=object)
    accounts, potential = plan.reps["accounts"].to_numpy(dtype=int), plan.reps["potential"].to_numpy(dtype=float)
    results: list[Found] = []
    for seed, effective in sorted(departures.items(), key=lambda item: str(rep_ids[item[0]])):
        rid, segment = str(rep_ids[seed]), str(segments[seed])
        if accounts[seed] == 0:
            continue
        peers = nearest_peers(plan, seed, params.leaving.neighbours, ~active, params.balance.eligibility.region, locations)
        if not peers:
            notes.append(f"{rid} leaves but has no active colleague in segment {segment}: book not redistributed")
            continue
        members = [seed] + peers
        everyone_else = np.ones(plan.n_accounts, dtype=bool)  # lock all but the leaving book
        everyone_else[plan.accounts["rep"].to_numpy() == seed] = False
        outcome = _safe_rebalance(plan, members, params, notes, lock_accounts=everyone_else, leaving={seed},
                                  balance_update={"max_move_share": None, "parallel": "sync"})
        if outcome is None:
            continue
        quota_changes = prorate_quotas(plan, outcome.moves, effective, *period, params.pacing)
        q = float(plan.reps["quota"].to_numpy(dtype=float)[seed])
        kept = float(quota_changes.loc[quota_changes["rep_id"] == rid, "quota_after"].sum()) if len(quota_changes) else q
        receivers = (outcome.moves.groupby("to_rep_id")["potential"].agg(["size", "sum"]).sort_values("sum", ascending=False)
                     .reset_index())
        gains = dict(zip(quota_changes["rep_id"], quota_changes["change"], strict=True))
        shares = "; ".join(f"{x['to_rep_id']}: {int(x['size'])} accounts, {money(x['sum'])} potential, quota "
                           f"{money(gains.get(x['to_rep_id'], 0.0))} more" for x in receivers.to_dict("records"))
        reasoning = (f"{rid} leaves on {effective} holding {int(accounts[seed])} accounts "
                     f"({money(float(potential[seed]))} potential) and a quota of {money(q)}. Every other account "
                     f"keeps its owner; the book goes to {len(receivers)} of the {len(peers)} nearest {segment} "
                     f"colleagues (balancer status {outcome.status}): {shares}. {rid} keeps {money(kept)} of quota (what was "
                     f"expected before {effective}); the rest, {money(q - kept)}, moves with the accounts, so team and company "
                     "totals are unchanged.")
        metrics = {"accounts": int(accounts[seed]), "potential": float(potential[seed]), "quota": q,
                   "quota_kept": kept, "receivers": receivers["to_rep_id"].tolist(), "balance_status": outcome.status}
        results.append((_row("rep_leaving", "rep", rid, float(potential[seed]),
                             f"Redistribute {rid}'s book ({len(outcome.moves)} accounts) from {effective}", reasoning, metrics,
                             outcome.moves, effective=effective),
                        outcome.moves, quota_changes))
    return results


def _invest(attainment: pd.DataFrame, params: MonitorParams, elapsed: float,
            days_elapsed: int) -> list[Found]:
    cfg = params.invest
    zones = attainment[(attainment["level"] == cfg.level) & (attainment["potential"] > 0)].copy()
    company = attainment[attainment["level"] == "company"]
    if not cfg.enabled or cfg.max_recommendations == 0 or zones.empty or company.empty:
        return []
    coverage_ref = float(company["coverage"].to_numpy(dtype=float)[0])
    penetration_ref = float(company["penetration"].to_numpy(dtype=float)[0])
    total = zones["potential"].sum()
    high = (zones["potential"] >= zones["potential"].quantile(cfg.potential_quantile)) & (zones["potential"] >= cfg.min_potential_share * total)
    low_cov = pd.Series(False, index=zones.index)
    if np.isfinite(coverage_ref):
        low_cov = (zones["coverage"].fillna(0.0) < cfg.coverage_ratio * coverage_ref) & (zones["remaining_quota"] > 0)
    low_pen = pd.Series(False, index=zones.index)
    if np.isfinite(penetration_ref) and elapsed >= params.flags.min_elapsed_share:
        low_pen = zones["penetration"].fillna(0.0) < cfg.penetration_ratio * penetration_ref
    picked = zones[high & (low_cov | low_pen)].copy()
    if picked.empty:
        return []
    expected_to_date = picked["potential"] * days_elapsed / 365.25
    picked["bookings_gap"] = (penetration_ref * expected_to_date - picked["bookings"]).clip(lower=0.0) if np.isfinite(penetration_ref) else 0.0
    picked["pipeline_gap"] = ((coverage_ref * picked["remaining_quota"] - picked["expected_pipeline"]).clip(lower=0.0)
                              if np.isfinite(coverage_ref) else 0.0)
    picked["upside"] = picked[["bookings_gap", "pipeline_gap"]].max(axis=1)
    picked = picked.sort_values(["upside", "unit_id"], ascending=[False, True]).head(cfg.max_recommendations)
    results: list[Found] = []
    for index, z in zip(picked.index, picked.to_dict("records"), strict=True):
        share = z["potential"] / total
        lows, labels = [], []
        if low_cov[index]:
            labels.append("low coverage")
            lows.append(f"coverage {z['coverage']:.2f} (open pipeline x win rate over remaining quota) against the company's "
                        f"{coverage_ref:.2f} (limit {cfg.coverage_ratio:.0%} of it), {money(z['pipeline_gap'])} of expected pipeline short")
        if low_pen[index]:
            labels.append("low penetration")
            lows.append(f"penetration {z['penetration']:.2f} (bookings over the potential expected to date) against the company's "
                        f"{penetration_ref:.2f} (limit {cfg.penetration_ratio:.0%} of it), {money(z['bookings_gap'])} of bookings behind")
        reasoning = (f"{cfg.level.capitalize()} {z['unit_id']} holds {share:.1%} of the potential ({money(z['potential'])}; top "
                     f"{1 - cfg.potential_quantile:.0%} of {cfg.level}s) but has " + " and ".join(lows)
                     + f". {z['fte']:.1f} FTE of {int(z['n_reps'])} reps serve it. Invest: pipeline generation (marketing, "
                     "SDR focus) there first; if it persists, capacity (see headcount).")
        metrics = {k: float(z[k]) for k in ("potential", "coverage", "penetration", "fte", "bookings", "expected_pipeline",
                                             "remaining_quota", "bookings_gap", "pipeline_gap")}
        metrics.update({"company_coverage": coverage_ref, "company_penetration": penetration_ref, "potential_share": share})
        results.append((_row("invest", cfg.level, str(z["unit_id"]), float(z["upside"]),
                             f"Invest in {cfg.level} {z['unit_id']}: {share:.1%} of potential, {' and '.join(labels)}",
                             reasoning, metrics), None, None))
    return results


def recommend(
    plan: Plan,
    attainment: pd.DataFrame,
    actuals: Actuals,
    params: MonitorParams,
    as_of: dt.date,
    period_start: dt.date,
    period_end: dt.date,
    elapsed: float,
    days_elapsed: int,
) -> Recommendations:
    """Every recommendation of the four kinds (see the module docstring): departures first, then resize,
    headcount and invest, each by decreasing priority."""
    notes: list[str] = []
    departures = leaving_reps(plan, params, as_of, notes)
    rep_figures = attainment[attainment["level"] == "rep"].set_index("unit_id").reindex(plan.reps["rep_id"])
    rep_figures = rep_figures[["expected_pipeline"]].fillna(0.0)
    period = (period_start, period_end)
    found = (_rep_leaving(plan, params, departures, period, notes)
             + _resize(plan, rep_figures, actuals, params, set(departures), as_of, period, notes)
             + _headcount(plan, params, set(departures))
             + _invest(attainment, params, elapsed, days_elapsed))
    rows, moves, quotas = [], [], []
    counters: dict[str, int] = {}
    kinds = ["rep_leaving", "resize", "headcount", "invest"]
    found.sort(key=lambda item: (kinds.index(item[0]["kind"]), -item[0]["priority"], item[0]["unit_id"]))
    for row, move, quota in found:
        counters[row["kind"]] = counters.get(row["kind"], 0) + 1
        rid = f"{row['kind']}-{counters[row['kind']]:03d}"
        rows.append({"recommendation_id": rid, **row})
        if move is not None and len(move):
            moves.append(move.assign(recommendation_id=rid))
        if quota is not None and len(quota):
            quotas.append(quota.assign(recommendation_id=rid))
    table = pd.DataFrame(rows, columns=COLUMNS)
    move_columns = ["recommendation_id", "account_id", "from_rep_id", "to_rep_id", "potential"]
    quota_columns = ["recommendation_id", "rep_id", "quota_before", "quota_after", "change", "kept_share", "effective_date"]
    return Recommendations(
        table,
        pd.concat(moves, ignore_index=True)[move_columns] if moves else pd.DataFrame(columns=move_columns),
        pd.concat(quotas, ignore_index=True)[quota_columns] if quotas else pd.DataFrame(columns=quota_columns),
        notes,
    )
