"""The fairness report: one self-contained HTML file a sales leader can open (charts embedded as PNG).

It answers, in this order: can the plan be locked? which criteria pass, warn or
fail, with the numbers? did the managers' edits make the plan fairer than the
draft? which reps break which criterion? which edits were applied, and which
failures were waived by whom and why?
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from plan_lib.fairness.criteria import FAIL, PASS, WARN, FairnessResult, format_value
from plan_lib.fairness.params import Criterion, FairnessParams

STYLE = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#666;font-size:.9em}table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f6f8}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:9px;color:#fff;font-weight:600;font-size:.85em}
.pass{background:#3b8f4a}.warn{background:#d99a1e}.fail{background:#c0504d}.na{background:#9aa5b1}
.verdict{padding:.8em 1em;border-radius:6px;margin:1em 0;font-size:1.05em}
.verdict.ok{background:#e8f3ea;border:1px solid #3b8f4a}.verdict.blocked{background:#f8e6e5;border:1px solid #c0504d}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}.fairer{color:#3b8f4a}.less{color:#c0504d}
.small{font-size:.85em;color:#555}
"""


def figure_png(figure: Figure, dpi: int = 100) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _esc(value: Any) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    return html.escape(str(value))


def _badge(status: str) -> str:
    css = {PASS: "pass", WARN: "warn", FAIL: "fail"}.get(status, "na")
    return f'<span class="badge {css}">{_esc(status)}</span>'


def _table(header: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _number(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _esc(value)
    if not np.isfinite(number):
        return ""
    return f"{number:,.0f}" if abs(number) >= 1000 else f"{number:,.4g}"


def _is_share(criterion: Criterion) -> bool:
    return criterion.aggregate == "share" or criterion.column.endswith("share")


def _rep_value(value: Any, criterion: Criterion) -> str:
    number = float(value) if value is not None else float("nan")
    if _is_share(criterion) and np.isfinite(number):
        return f"{number:.1%}"
    return _number(value)


def _deviation(value: Any, criterion: Criterion) -> str:
    """Relative deviations in %, differences of shares in points, other differences as numbers."""
    number = float(value) if value is not None else float("nan")
    if not np.isfinite(number):
        return ""
    if criterion.aggregate in ("max_abs_dev", "share", "mean"):
        return f"{100 * number:+.1f} points" if _is_share(criterion) else f"{number:+,.4g}"
    return f"{number:+.1%}"


def _verdict_block(refined: FairnessResult, decision: Mapping[str, Any] | None) -> str:
    failing = refined.failing
    if decision is not None and decision.get("allowed") and failing:
        return (f'<div class="verdict ok"><b>Can be locked with waivers.</b> {len(failing)} criteria fail, '
                f"each waived explicitly: {_esc(', '.join(failing))}.</div>")
    if not failing:
        warned = refined.criteria.loc[refined.criteria["status"] == WARN, "name"].tolist()
        extra = f" {len(warned)} criteria warn: {_esc(', '.join(warned))}." if warned else ""
        return f'<div class="verdict ok"><b>Ready to lock:</b> no criterion fails.{extra}</div>'
    missing = decision.get("missing", failing) if decision else failing
    return (f'<div class="verdict blocked"><b>Not ready to lock:</b> {len(failing)} criteria fail '
            f"({_esc(', '.join(failing))}). Locking needs the plan fixed in review, or an explicit waiver "
            f"(who accepts it, and why) for each; still without a waiver: {_esc(', '.join(missing)) or 'none'}.</div>")


def _edits_sentence(comparison: pd.DataFrame, edits: Mapping[str, int]) -> str:
    counts = comparison["verdict"].value_counts()
    made = (f"{edits.get('honoured', 0)} review edits applied ({edits.get('moved', 0)} accounts moved, "
            f"{edits.get('family_moved', 0)} of them with their account family; {edits.get('quota', 0)} quota changes); "
            f"{edits.get('not_applicable', 0)} no longer applied.")
    fairer, less = int(counts.get("fairer", 0)), int(counts.get("less fair", 0))
    if not edits.get("honoured", 0):
        return f"<p>No review edits: the refined plan is the draft. {made}</p>"
    if fairer > less:
        overall = '<b class="fairer">On balance the edits made the plan fairer</b>'
    elif less > fairer:
        overall = '<b class="less">On balance the edits made the plan less fair</b>'
    else:
        overall = "<b>The edits left fairness about where the draft had it</b>"
    return (f"<p>{made} {overall}: {fairer} criteria fairer, {less} less fair, "
            f"{int(counts.get('unchanged', 0))} unchanged (changes under 1% of a threshold count as unchanged).</p>")


def _criteria_table(refined: FairnessResult, comparison: pd.DataFrame, params: FairnessParams) -> str:
    by_name = {c.name: c for c in params.active}
    compared = comparison.set_index("name")
    rows = []
    for row in refined.criteria.itertuples(index=False):
        criterion = by_name[row.name]
        verdict = compared.at[row.name, "verdict"]
        css = "fairer" if verdict == "fairer" else "less" if verdict == "less fair" else ""
        rows.append([
            _badge(row.status), f"<b>{_esc(row.label)}</b><br><span class='small'>{_esc(row.name)}: {_esc(criterion.aggregate)} of "
            f"{_esc(criterion.column)}{' per FTE' if criterion.per_fte else ''} by {_esc(criterion.scope)}</span>",
            _esc(format_value(row.value, criterion)), _esc(row.worst_group),
            _esc(format_value(criterion.warn, criterion) if criterion.warn is not None else "-"),
            _esc(format_value(criterion.fail, criterion) if criterion.fail is not None else "-"),
            _esc(format_value(compared.at[row.name, "draft_value"], criterion)),
            f'<span class="{css}">{_esc(verdict)}</span>', f"{row.reps_warn} / {row.reps_fail}",
        ])
    return _table(["status", "criterion", "value", "worst group", "warn beyond", "fail beyond", "draft", "edits made it", "reps warn / fail"],
                  rows, numeric={2, 4, 5, 6})


def _breaking_tables(refined: FairnessResult, reps: pd.DataFrame, params: FairnessParams) -> str:
    info = reps.set_index("rep_id")[["name", "manager_id"]] if len(reps) else pd.DataFrame(columns=["name", "manager_id"])
    breaking = refined.breaking
    parts = []
    for criterion in params.active:
        rows = breaking[breaking["criterion"] == criterion.name]
        if not len(rows):
            continue
        shown = rows.head(params.report_rows)
        table_rows = [
            [_badge(r.status), _esc(r.rep_id), _esc(info["name"].get(r.rep_id, "")), _esc(info["manager_id"].get(r.rep_id, "")),
             _esc(r.segment), _esc(r.region), _rep_value(r.value, criterion), _rep_value(r.reference, criterion),
             _deviation(r.deviation, criterion)]
            for r in shown.itertuples(index=False)
        ]
        more = f"<p class='small'>{len(rows) - len(shown)} more in data/fairness_breaking.parquet.</p>" if len(rows) > len(shown) else ""
        parts.append(f"<h3>{_esc(criterion.title)} <span class='small'>({_esc(criterion.name)})</span></h3>"
                     + _table(["status", "rep", "name", "manager", "segment", "region", "value", "group reference", "deviation"],
                              table_rows, numeric={6, 7, 8}) + more)
    return "".join(parts) or "<p>No rep breaks any criterion.</p>"


def _overrides_table(report: pd.DataFrame) -> str:
    if report is None or not len(report):
        return "<p>No overrides were made in review.</p>"
    rows = [
        [_esc(r.kind), _esc(r.account_id), _esc(r.rep_id), _number(r.quota), _esc(r.author), _esc(r.reason), _badge(PASS if r.status == "honoured" else "n/a").replace(">pass<", ">honoured<").replace(">n/a<", f">{_esc(r.status)}<"),
         _esc(r.detail), _esc(getattr(r, "family_moved", ""))]
        for r in report.itertuples(index=False)
    ]
    return _table(["kind", "account", "rep", "quota", "author", "reason", "status", "detail", "family members moved"], rows, numeric={3, 8})


def _waivers_table(waivers: list[Mapping[str, Any]]) -> str:
    if not waivers:
        return ""
    rows = [[_esc(w.get("criterion")), _esc(w.get("by")), _esc(w.get("reason"))] for w in waivers]
    return "<h2>Waivers</h2>" + _table(["criterion", "accepted by", "why"], rows)


def render_report(
    *,
    title: str,
    context: Mapping[str, Any],
    params: FairnessParams,
    draft: FairnessResult,
    refined: FairnessResult,
    comparison: pd.DataFrame,
    reps: pd.DataFrame,
    overrides: pd.DataFrame,
    edits: Mapping[str, int],
    figures: Mapping[str, Figure | bytes | None],
    decision: Mapping[str, Any] | None = None,
    waivers: list[Mapping[str, Any]] | None = None,
) -> str:
    """The whole report as one HTML string (no external files, no scripts)."""
    meta = " &middot; ".join(f"{_esc(k)}: {_esc(v)}" for k, v in context.items() if v not in (None, ""))
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    images = []
    for caption, figure in figures.items():
        if figure is None:
            continue
        data = figure if isinstance(figure, bytes) else figure_png(figure)
        images.append(f"<figure><img alt='{_esc(caption)}' src='data:image/png;base64,{base64.b64encode(data).decode()}'>"
                      f"<figcaption class='small'>{_esc(caption)}</figcaption></figure>")
    sections = [
        f"<h1>{_esc(title)}</h1><p class='meta'>{meta} &middot; generated {generated}</p>",
        _verdict_block(refined, decision),
        "<h2>Criteria</h2>",
        "<p class='small'>Each criterion was agreed before the plan was drafted. A value beyond <i>warn</i> is reported; "
        "beyond <i>fail</i> it blocks the lock unless someone accountable waives it and says why.</p>",
        _criteria_table(refined, comparison, params),
        "<h2>Did the managers' edits make the plan fairer?</h2>",
        _edits_sentence(comparison, edits),
        *images,
        "<h2>Reps that break a criterion</h2>",
        "<p class='small'>Per criterion, worst first. For a spread (cv, Gini) the reps listed are those more than one "
        "standard deviation from their group's mean, in a group that breaks the criterion.</p>",
        _breaking_tables(refined, reps, params),
        "<h2>Review edits</h2>",
        _overrides_table(overrides),
        _waivers_table(waivers or []),
    ]
    body = "\n".join(sections)
    return f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_esc(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>\n"
