"""Evaluate the fairness criteria on a plan: per criterion pass, warn or fail with the numbers,
per group, and per rep (which reps break which criterion).

For each criterion and each group of its scope (segment, region, ...):

- ``max_rel_dev``: reference = weighted mean of the reps' values; each rep's
  deviation = value / reference - 1; group value = the largest |deviation|; a rep
  breaks when its own |deviation| is beyond the thresholds.
- ``max_abs_dev``: the same with deviation = value - reference (shares: points).
- ``max`` / ``min``: group value = largest / smallest rep value; each rep is
  tested on its own value.
- ``cv`` (weighted std / mean) and ``gini`` (1 - 2 x area under the Lorenz curve):
  dispersion of the whole group. A rep "breaks" such a criterion when its group
  breaks it and the rep lies more than one standard deviation from the mean:
  those are the books to look at first.
- ``share`` / ``mean`` (per account): weighted share of accounts where the
  column is true (mean: weighted mean of the column), rows where it is missing
  left out; each rep is measured on its own book with the same thresholds.

The criterion's value is its worst group; its status the worst status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from plan_lib.fairness.errors import CriterionError
from plan_lib.fairness.measures import gini, weighted_cv, weighted_mean
from plan_lib.fairness.params import Criterion, FairnessParams

PASS, WARN, FAIL, NA = "pass", "warn", "fail", "n/a"
SEVERITY = {NA: 0, PASS: 1, WARN: 2, FAIL: 3}
EPS = 1e-9
SCOPE_KEYS = {"segment": ["segment"], "region": ["region"], "segment_region": ["segment", "region"], "all": []}
PERCENT_AGGREGATES = ("max_rel_dev", "cv", "share")
CRITERIA_COLUMNS = [
    "name", "label", "per", "column", "aggregate", "scope", "value", "worst_group", "warn", "fail", "status",
    "groups", "reps_warn", "reps_fail", "sentence",
]
GROUP_COLUMNS = ["criterion", "group", "value", "reference", "members", "status"]
REP_RESULT_COLUMNS = ["criterion", "rep_id", "segment", "region", "group", "value", "reference", "deviation", "status"]


@dataclass
class FairnessResult:
    """Criteria (one row each), groups (criterion x group) and reps (criterion x rep, every rep measured)."""

    criteria: pd.DataFrame
    groups: pd.DataFrame
    reps: pd.DataFrame

    @property
    def breaking(self) -> pd.DataFrame:
        """The reps that warn or fail a criterion, worst first."""
        rows = self.reps[self.reps["status"].isin([WARN, FAIL])]
        order = rows["status"].map(SEVERITY).rename("severity")
        return rows.assign(severity=order, size=rows["deviation"].abs()).sort_values(
            ["criterion", "severity", "size"], ascending=[True, False, False], kind="stable"
        ).drop(columns=["severity", "size"]).reset_index(drop=True)

    @property
    def failing(self) -> list[str]:
        return self.criteria.loc[self.criteria["status"] == FAIL, "name"].tolist()

    @property
    def passed(self) -> bool:
        """No criterion fails (warnings do not block a lock)."""
        return not self.failing

    def summary(self) -> dict[str, Any]:
        counts = self.criteria["status"].value_counts()
        return {
            "passed": self.passed,
            "counts": {s: int(counts.get(s, 0)) for s in (PASS, WARN, FAIL, NA)},
            "failing": self.failing,
            "warning": self.criteria.loc[self.criteria["status"] == WARN, "name"].tolist(),
            "criteria": {
                row.name: {"value": None if pd.isna(row.value) else float(row.value), "status": row.status, "worst_group": row.worst_group}
                for row in self.criteria.itertuples(index=False)
            },
        }


def status_of(value: float, criterion: Criterion) -> str:
    """pass / warn / fail of one number against the criterion's thresholds."""
    if value is None or not np.isfinite(value):
        return NA
    if criterion.below:
        if criterion.fail is not None and value < criterion.fail - EPS:
            return FAIL
        if criterion.warn is not None and value < criterion.warn - EPS:
            return WARN
        return PASS
    if criterion.fail is not None and value > criterion.fail + EPS:
        return FAIL
    if criterion.warn is not None and value > criterion.warn + EPS:
        return WARN
    return PASS


def format_value(value: float | None, criterion: Criterion) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    if criterion.aggregate in PERCENT_AGGREGATES:
        return f"{value:.1%}"
    if criterion.aggregate == "max_abs_dev" and criterion.column.endswith("share"):
        return f"{100 * value:.1f} points"
    if criterion.aggregate in ("gini", "max_abs_dev"):
        return f"{value:.3f}"
    return f"{value:,.4g}"


def _group_labels(frame: pd.DataFrame, scope: str) -> pd.Series:
    keys = SCOPE_KEYS[scope]
    if not keys:
        return pd.Series("all", index=frame.index, dtype="str")
    parts = [frame[k].astype("str").where(frame[k].astype("str") != "", "(none)") for k in keys]
    label = parts[0]
    for part in parts[1:]:
        label = label + " / " + part
    return label.astype("str")


def _column(name: str, reps: pd.DataFrame, accounts: pd.DataFrame, criterion: Criterion, what: str) -> pd.Series:
    """A per-rep column: from the rep metrics, else a numeric account column summed over each book."""
    if name in reps.columns:
        return pd.to_numeric(reps[name], errors="coerce").astype(float)
    if name in accounts.columns:
        values = pd.to_numeric(accounts[name], errors="coerce")
        if values.notna().any():
            sums = values.groupby(accounts["rep_id"]).sum()
            return reps["rep_id"].map(sums).fillna(0.0).astype(float)
    numeric = sorted(c for c in reps.columns if pd.api.types.is_numeric_dtype(reps[c]))
    raise CriterionError(
        f"fairness criterion '{criterion.name}': {what} '{name}' is neither a per-rep metric nor a numeric account column. "
        f"Per-rep metrics: {', '.join(numeric)}; or name a numeric column of the accounts or scores tables"
    )


def _rep_criterion(criterion: Criterion, reps: pd.DataFrame, accounts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    carriers = reps[reps["carries_book"].astype(bool)].reset_index(drop=True)
    values = _column(criterion.column, carriers, accounts, criterion, "column")
    if criterion.per_fte:
        fte = carriers["fte"].astype(float)
        values = values / fte.where(fte > 0)
    weights = _column(criterion.weight, carriers, accounts, criterion, "weight") if criterion.weight else pd.Series(1.0, index=carriers.index)
    frame = carriers[["rep_id", "segment", "region"]].assign(value=values.to_numpy(), weight=weights.fillna(0.0).to_numpy())
    frame = frame[np.isfinite(frame["value"])].copy()
    frame["group"] = _group_labels(frame, criterion.scope)
    group_rows, rep_parts = [], []
    for group, rows in frame.groupby("group", sort=True):
        x, w = rows["value"].to_numpy(float), rows["weight"].to_numpy(float)
        reference = weighted_mean(x, w)
        if criterion.aggregate == "max_abs_dev":
            deviation = x - reference
        else:
            deviation = x / reference - 1.0 if np.isfinite(reference) and reference > 0 else np.full(len(x), np.nan)
        if criterion.aggregate in ("max_rel_dev", "max_abs_dev"):
            value = float(np.nanmax(np.abs(deviation))) if np.isfinite(deviation).any() else float("nan")
            rep_status = [status_of(abs(d), criterion) for d in deviation]
        elif criterion.aggregate in ("max", "min"):
            value = float(x.max() if criterion.aggregate == "max" else x.min())
            rep_status = [status_of(v, criterion) for v in x]
        else:
            spread = weighted_cv(x, w)
            value = spread if criterion.aggregate == "cv" else gini(x, w)
            group_status = status_of(value, criterion)
            beyond = np.abs(deviation) > (spread if np.isfinite(spread) else np.inf) + EPS
            rep_status = [group_status if b and group_status in (WARN, FAIL) else (PASS if np.isfinite(d) else NA)
                          for b, d in zip(beyond, deviation, strict=True)]
        group_rows.append({"group": group, "value": value, "reference": reference, "members": len(rows), "status": status_of(value, criterion)})
        rep_parts.append(rows[["rep_id", "segment", "region", "group", "value"]].assign(reference=reference, deviation=deviation, status=rep_status))
    return pd.DataFrame(group_rows, columns=GROUP_COLUMNS[1:]), _concat(rep_parts, REP_RESULT_COLUMNS[1:])


def _account_values(criterion: Criterion, accounts: pd.DataFrame) -> pd.Series:
    if criterion.column not in accounts.columns:
        raise CriterionError(
            f"fairness criterion '{criterion.name}': account column '{criterion.column}' does not exist; "
            f"account columns: {', '.join(sorted(map(str, accounts.columns)))}"
        )
    raw = accounts[criterion.column]
    if criterion.aggregate == "share":
        if raw.dtype == bool:
            return raw.astype(float)
        numeric = pd.to_numeric(raw, errors="coerce")
        if numeric.notna().any() or raw.isna().all():
            return (numeric != 0).astype(float).where(numeric.notna())
        text = raw.astype("str").str.strip().str.lower()
        return text.isin(["true", "1", "yes", "y", "t"]).astype(float).where(raw.notna())
    return pd.to_numeric(raw, errors="coerce").astype(float)


def _account_criterion(criterion: Criterion, reps: pd.DataFrame, accounts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    values = _account_values(criterion, accounts)
    if criterion.weight:
        if criterion.weight not in accounts.columns:
            raise CriterionError(f"fairness criterion '{criterion.name}': weight column '{criterion.weight}' is not an account column")
        weights = pd.to_numeric(accounts[criterion.weight], errors="coerce").fillna(0.0).clip(lower=0.0)
    else:
        weights = pd.Series(1.0, index=accounts.index)
    frame = accounts[["rep_id", "segment", "region"]].assign(value=values.to_numpy(), weight=weights.to_numpy())
    frame = frame[frame["value"].notna()].copy()
    frame["group"] = _group_labels(frame, criterion.scope)

    def share(rows: pd.DataFrame) -> float:
        return weighted_mean(rows["value"].to_numpy(float), rows["weight"].to_numpy(float))

    group_rows = [
        {"group": group, "value": share(rows), "reference": np.nan, "members": len(rows), "status": status_of(share(rows), criterion)}
        for group, rows in frame.groupby("group", sort=True)
    ]
    carriers = reps[reps["carries_book"].astype(bool)][["rep_id", "segment", "region"]].copy()
    carriers["group"] = _group_labels(carriers, criterion.scope)
    per_rep = frame.groupby("rep_id").apply(share, include_groups=False) if len(frame) else pd.Series(dtype=float)
    carriers["value"] = carriers["rep_id"].map(per_rep).astype(float)
    reference = carriers["group"].map({row["group"]: row["value"] for row in group_rows}).astype(float)
    carriers["reference"] = reference
    carriers["deviation"] = carriers["value"] - reference
    carriers["status"] = [status_of(v, criterion) for v in carriers["value"]]
    return pd.DataFrame(group_rows, columns=GROUP_COLUMNS[1:]), carriers[REP_RESULT_COLUMNS[1:]].reset_index(drop=True)


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def evaluate_criterion(criterion: Criterion, reps: pd.DataFrame, accounts: pd.DataFrame) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """One criterion on one plan: its summary row, its groups, its per-rep results."""
    if criterion.per == "rep":
        groups, rep_rows = _rep_criterion(criterion, reps, accounts)
    else:
        groups, rep_rows = _account_criterion(criterion, reps, accounts)
    finite = groups[np.isfinite(groups["value"].astype(float))]
    if len(finite):
        worst = finite.loc[finite["value"].astype(float).idxmin() if criterion.below else finite["value"].astype(float).idxmax()]
        value, worst_group = float(worst["value"]), str(worst["group"])
    else:
        value, worst_group = float("nan"), ""
    status = max(groups["status"], key=SEVERITY.__getitem__) if len(groups) else NA
    counts = rep_rows["status"].value_counts()
    limit = criterion.fail if status == FAIL else criterion.warn if status == WARN else None
    side = "below" if criterion.below else "above"
    where = f" in {worst_group}" if worst_group and worst_group != "all" else ""
    sentence = f"{status}: {format_value(value, criterion)}{where}"
    if limit is not None:
        sentence += f" ({status} {side} {format_value(limit, criterion)})"
    row = {
        "name": criterion.name, "label": criterion.title, "per": criterion.per, "column": criterion.column,
        "aggregate": criterion.aggregate, "scope": criterion.scope, "value": value, "worst_group": worst_group,
        "warn": criterion.warn, "fail": criterion.fail, "status": status, "groups": len(groups),
        "reps_warn": int(counts.get(WARN, 0)), "reps_fail": int(counts.get(FAIL, 0)), "sentence": sentence,
    }
    return row, groups.assign(criterion=criterion.name)[GROUP_COLUMNS], rep_rows.assign(criterion=criterion.name)[REP_RESULT_COLUMNS]


def evaluate(params: FairnessParams, reps: pd.DataFrame, accounts: pd.DataFrame) -> FairnessResult:
    """Every active criterion on one plan (``reps`` from ``rep_metrics``, ``accounts`` from ``account_metrics``)."""
    rows, groups, rep_rows = [], [], []
    for criterion in params.active:
        row, group, per_rep = evaluate_criterion(criterion, reps, accounts)
        rows.append(row)
        groups.append(group)
        rep_rows.append(per_rep)
    return FairnessResult(
        pd.DataFrame(rows, columns=CRITERIA_COLUMNS),
        _concat(groups, GROUP_COLUMNS),
        _concat(rep_rows, REP_RESULT_COLUMNS),
    )


def compare(draft: FairnessResult, refined: FairnessResult, params: FairnessParams) -> pd.DataFrame:
    """Draft against refined plan per criterion: values, statuses, and whether the edits made it fairer."""
    below = {c.name: c.below for c in params.active}
    # a change smaller than 1% of the criterion's threshold is noise, not a verdict
    tolerance = {c.name: 0.01 * abs(c.fail if c.fail is not None else c.warn or 0.0) for c in params.active}
    left = draft.criteria.set_index("name")[["value", "status"]].add_prefix("draft_")
    right = refined.criteria.set_index("name")[["label", "value", "status"]]
    frame = right.rename(columns={"value": "refined_value", "status": "refined_status"}).join(left, how="left")
    frame["change"] = frame["refined_value"] - frame["draft_value"]
    verdicts = []
    for name, change in frame["change"].items():
        if not np.isfinite(change) or abs(change) <= max(tolerance.get(str(name), 0.0), 1e-9):
            verdicts.append("unchanged")
        else:
            better = change > 0 if below.get(str(name)) else change < 0
            verdicts.append("fairer" if better else "less fair")
    frame["verdict"] = verdicts
    columns = ["label", "draft_value", "refined_value", "change", "draft_status", "refined_status", "verdict"]
    return frame[columns].reset_index()
