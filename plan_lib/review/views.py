"""What the dashboard shows, as pure functions of the session's data frames.

Kept apart from the widgets so filtering and formatting are tested directly
and the widget layer only wires values in and HTML out.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from plan_lib.review.concurrency import format_time


def filter_accounts(accounts: pd.DataFrame, *, search: str = "", rep: str = "", segment: str = "",
                    customers_only: bool = False, changed_only: bool = False) -> pd.DataFrame:
    """Accounts matching a free-text search (id, name, industry, state) and the filters."""
    frame = accounts
    words = [w for w in search.lower().split() if w]
    if words:
        haystack = (
            frame["account_id"].astype("str") + " " + frame["name"].fillna("").astype("str") + " "
            + frame["industry"].fillna("").astype("str") + " " + frame["state"].fillna("").astype("str")
        ).str.lower()
        mask = pd.Series(True, index=frame.index)
        for word in words:
            mask &= haystack.str.contains(word, regex=False)
        frame = frame[mask]
    if rep:
        frame = frame[frame["rep_id"] == rep]
    if segment:
        frame = frame[frame["segment"] == segment]
    if customers_only:
        frame = frame[frame["is_customer"].astype(bool)]
    if changed_only:
        frame = frame[frame["reassigned"].astype(bool) | frame["locked_to"].notna()]
    return frame.sort_values(["potential", "account_id"], ascending=[False, True])


def account_label(row: pd.Series) -> str:
    lock = " [locked]" if pd.notna(row.get("locked_to")) else ""
    moved = " [moved]" if bool(row.get("reassigned")) else ""
    name = row.get("name") if isinstance(row.get("name"), str) else ""
    return f"{row['account_id']} | {name} | {row['rep_id']} | {row['potential']:,.0f}{moved}{lock}"


def accounts_display(accounts: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account": accounts["account_id"],
            "name": accounts["name"],
            "segment": accounts["segment"],
            "industry": accounts["industry"],
            "state": accounts["state"],
            "customer": np.where(accounts["is_customer"].astype(bool), "yes", ""),
            "potential": accounts["potential"].map("{:,.0f}".format),
            "owner": accounts["rep_id"],
            "draft owner": accounts["draft_rep_id"],
            "locked to": accounts["locked_to"].fillna(""),
        }
    )


def _pct(value: float) -> str:
    return "" if pd.isna(value) else f"{value:+.1%}"


def _money(value: float) -> str:
    return "" if pd.isna(value) else f"{value:,.0f}"


def books_display(books: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep": books["rep_id"],
            "name": books["name"],
            "segment": books["segment"],
            "FTE": books["fte"].map("{:.2f}".format),
            "accounts": books["accounts"],
            "customers": books["customers"],
            "potential": books["potential"].map(_money),
            "potential/FTE": books["potential_per_fte"].map(_money),
            "vs segment": books["deviation"].map(_pct),
            "band": np.where(books["in_band"], "ok", "OUT"),
            "workload": books["workload"].map("{:,.1f}".format),
            "quota": books["quota"].map(_money),
            "quota/potential": books["quota_per_potential"].map(lambda v: "" if pd.isna(v) else f"{v:.3f}"),
            "ratio vs segment": books["ratio_deviation"].map(_pct),
        }
    )


def segments_display(segments: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": segments["segment"],
            "reps": segments["reps"],
            "mean potential/FTE": segments["mean_potential_per_fte"].map(_money),
            "worst deviation": segments["max_abs_deviation"].map(lambda v: "" if pd.isna(v) else f"{v:.1%}"),
            "books out of band": segments["out_of_band"],
            "quota/potential": segments["quota_per_potential"].map(lambda v: "" if pd.isna(v) else f"{v:.3f}"),
        }
    )


TABLE_CSS = (
    "<style>.tqp-table{border-collapse:collapse;font-size:12px}"
    ".tqp-table th,.tqp-table td{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}"
    ".tqp-table tr:hover{background:#f3f6fa}</style>"
)


def quotas_display(quotas: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep": quotas["rep_id"],
            "draft quota": quotas["draft_quota"].map(_money),
            "quota": quotas["quota"].map(_money),
            "adjusted": np.where(quotas["adjusted"], "yes", ""),
        }
    )


def changes_display(overrides: pd.DataFrame) -> pd.DataFrame:
    """Live overrides since the draft: what, who, when, why."""

    def what(row: pd.Series) -> str:
        if row["kind"] == "reassign":
            return f"move {row['account_id']}: {row['from_rep_id']} -> {row['rep_id']}"
        if row["kind"] == "lock":
            return f"lock {row['account_id']} to {row['rep_id']}"
        previous = "none" if pd.isna(row["previous_quota"]) else f"{row['previous_quota']:,.0f}"
        return f"quota {row['rep_id']}: {previous} -> {row['quota']:,.0f}"

    if overrides.empty:
        return pd.DataFrame(columns=["change", "by", "when", "why"])
    return pd.DataFrame(
        {
            "change": overrides.apply(what, axis=1),
            "by": overrides["author"],
            "when": overrides["updated_at"].map(format_time),
            "why": overrides["reason"],
        }
    )


def history_display(history: pd.DataFrame, limit: int = 50) -> pd.DataFrame:
    recent = history.tail(limit).iloc[::-1]
    return pd.DataFrame(
        {
            "when": recent["at"].map(format_time),
            "who": recent["actor"],
            "what": recent["summary"],
            "why": recent["reason"].fillna(""),
        }
    )


def html_table(frame: pd.DataFrame, css_class: str, empty: str = "nothing to show") -> str:
    if frame.empty:
        return f'<div class="{css_class}"><em>{html.escape(empty)}</em></div>'
    table = frame.to_html(index=False, escape=True, border=0, classes=["tqp-table"], na_rep="")
    return f'<div class="{css_class}" style="max-height:420px;overflow:auto">{table}</div>'
