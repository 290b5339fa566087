"""Ingest: turn raw input tables into clean, typed tables plus a quarantine.

The promise to the user: nothing is silently dropped or coerced. Every input row
either reaches a clean table or the quarantine with the column and the reason,
and ``rows_in == rows_kept + rows_quarantined`` holds for every table (recorded
in the manifest). Problems that no row-level fix can solve (a missing table or
column, an unreadable file, a cycle in the hierarchy, a table mostly rejected)
stop the run with one message that names the file and says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from plan_lib import arrowops
from plan_lib.contract import TABLES, Table
from plan_lib.errors import InputError, QuarantineLimitError
from plan_lib.parameters import IngestParams
from plan_lib.sources import RawInputs, RawTable
from plan_lib.validation import check_columns, check_rules, failures_frame, parse_table


@dataclass
class TableReport:
    table: str
    origin: str
    sha256: str
    rows_in: int
    rows_kept: int
    rows_quarantined: int
    reasons: dict[str, int]

    def reconciles(self) -> bool:
        return self.rows_in == self.rows_kept + self.rows_quarantined


@dataclass
class IngestResult:
    tables: dict[str, pd.DataFrame]
    quarantine: dict[str, pd.DataFrame]
    reports: dict[str, TableReport]
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """One row per table: rows in, kept, quarantined (the reconciliation table)."""
        return pd.DataFrame(
            [
                {"table": r.table, "rows_in": r.rows_in, "rows_kept": r.rows_kept, "rows_quarantined": r.rows_quarantined, "source": r.origin}
                for r in self.reports.values()
            ]
        )

    def quarantine_reasons(self) -> pd.DataFrame:
        """How many rows each reason held back, per table (empty when everything was kept)."""
        rows = [
            {"table": r.table, "reason": reason, "rows": count}
            for r in self.reports.values()
            for reason, count in r.reasons.items()
        ]
        return pd.DataFrame(rows, columns=["table", "reason", "rows"])


def _quarantine_rows(raw: pd.DataFrame, failures: pd.DataFrame, raw_table: RawTable) -> pd.DataFrame:
    """Original cells of each rejected row, with its row number, columns and reasons."""
    if failures.empty:
        return pd.DataFrame(columns=["row", "line", "columns", "reasons", *map(str, raw.columns)])
    grouped = failures.groupby("position", sort=True).agg(
        columns=("column", lambda c: ";".join(dict.fromkeys(x for x in c if x))),
        reasons=("reason", lambda r: "; ".join(dict.fromkeys(r))),
    )
    positions = grouped.index.to_numpy()
    rejected = raw.iloc[positions].astype("str").where(raw.iloc[positions].notna(), "")
    rejected = rejected.reset_index(drop=True)
    rejected.columns = [str(c) for c in rejected.columns]
    head = pd.DataFrame(
        {
            "row": positions + 1,
            "line": positions + raw_table.line_offset if raw_table.is_text else pd.array([pd.NA] * len(positions), dtype="Int64"),
            "columns": grouped["columns"].to_numpy(),
            "reasons": grouped["reasons"].to_numpy(),
        }
    )
    return pd.concat([head, rejected], axis=1)


def _reference_failures(typed: pd.DataFrame, table: Table, kept: dict[str, pd.DataFrame], alive: np.ndarray, warnings: list[str], origin: str) -> pd.DataFrame:
    """Rows whose strict references point nowhere; soft ones only warn."""
    failures = []
    for ref in table.references:
        values = typed[ref.column]
        if ref.table == table.name:
            continue  # self references are resolved iteratively by the caller
        targets = kept[ref.table][ref.key] if ref.table in kept else pd.Series(dtype="str")
        dangling = values.notna().to_numpy() & ~arrowops.isin(values, targets) & alive
        if not dangling.any():
            continue
        dangling = pd.Series(dangling, index=values.index)
        if ref.strict:
            positions = np.flatnonzero(dangling.to_numpy())
            failures.append(
                pd.DataFrame(
                    {
                        "position": positions.astype("int64"),
                        "column": ref.column,
                        "value": values.iloc[positions].astype("str").to_numpy(),
                        "reason": f"'{ref.column}' names no kept {ref.table}.{ref.key}",
                    }
                )
            )
        else:
            examples = ", ".join(values[dangling].astype("str").unique()[:3])
            warnings.append(
                f"{origin}: {int(dangling.sum())} rows have a '{ref.column}' not in {ref.table} (e.g. {examples}); kept as history"
            )
    return failures_frame(failures)


def _self_reference_failures(typed: pd.DataFrame, column: str, key: str, alive: np.ndarray) -> pd.DataFrame:
    """Rows whose parent (manager, parent account) is missing or itself rejected, cascading."""
    alive = alive.copy()
    failures = []
    parents = typed[column]
    while True:
        kept_keys = typed[key][alive]
        dangling = parents.notna().to_numpy() & ~arrowops.isin(parents, kept_keys) & alive
        if not dangling.any():
            break
        positions = np.flatnonzero(dangling)
        failures.append(
            pd.DataFrame(
                {
                    "position": positions.astype("int64"),
                    "column": column,
                    "value": parents.iloc[positions].astype("str").to_numpy(),
                    "reason": f"'{column}' names no kept row of this table",
                }
            )
        )
        alive[positions] = False
    return failures_frame(failures)


def find_cycle(child: pd.Series, parent: pd.Series) -> list[str] | None:
    """The first cycle in a child -> parent forest, as a list of ids, or None.

    Vectorised pointer jumping: after doubling the parent pointer log2(n) times,
    every node whose chain ends at a root points past the end; those still
    pointing at a node are on, or lead into, a cycle. Only then is one cycle
    walked in Python, to name it.
    """
    ids = child.astype("str").to_numpy()
    index = pd.Index(ids)
    up = index.get_indexer(parent.astype("str").where(parent.notna(), None).to_numpy())  # -1: top or unknown
    n = len(ids)
    root = n  # a sentinel beyond the last node
    pointer = np.where(up < 0, root, up)
    pointer = np.append(pointer, root)
    for _ in range(max(1, int(np.ceil(np.log2(n + 1))) + 1)):
        pointer = pointer[pointer]
    stuck = np.flatnonzero(pointer[:n] != root)
    if not len(stuck):
        return None
    seen: dict[int, int] = {}
    node, path = int(stuck[0]), []
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = int(up[node])
    cycle = path[seen[node]:] + [node]
    return [str(ids[i]) for i in cycle]


def _validate_table(raw_table: RawTable, table: Table, kept: dict[str, pd.DataFrame], warnings: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = raw_table.frame.reset_index(drop=True)
    warnings += check_columns(raw, table, raw_table.origin)
    typed, parse_failures = parse_table(raw, table)
    rule_failures = check_rules(typed, table)
    # A cell that failed to parse is already explained; do not also call it empty.
    parsed_cells = set(zip(parse_failures["position"], parse_failures["column"], strict=True))
    rule_failures = rule_failures[[(p, c) not in parsed_cells for p, c in zip(rule_failures["position"], rule_failures["column"], strict=True)]]
    failures = failures_frame([parse_failures, rule_failures])
    alive = np.ones(len(typed), dtype=bool)
    alive[failures["position"].to_numpy()] = False
    failures = failures_frame([failures, _reference_failures(typed, table, kept, alive, warnings, raw_table.origin)])
    alive[failures["position"].to_numpy()] = False
    for ref in table.references:
        if ref.table == table.name:
            failures = failures_frame([failures, _self_reference_failures(typed, ref.column, ref.key, alive)])
            alive[failures["position"].to_numpy()] = False
            cycle = find_cycle(typed[ref.key][alive], typed[ref.column][alive])
            if cycle:
                raise InputError(
                    raw_table.origin,
                    f"'{ref.column}' forms a cycle: {' -> '.join(cycle)}",
                    column=ref.column,
                    fix="Each chain of parents must end at a top row with an empty value; fix one of these rows",
                )
    return typed[alive].reset_index(drop=True), _quarantine_rows(raw, failures, raw_table)


def ingest(inputs: RawInputs) -> IngestResult:
    """Validate every table of ``inputs`` in dependency order; quarantine bad rows."""
    warnings = list(inputs.warnings)
    kept: dict[str, pd.DataFrame] = {}
    quarantine: dict[str, pd.DataFrame] = {}
    reports: dict[str, TableReport] = {}
    for table in TABLES:
        raw_table = inputs.tables.get(table.name)
        if raw_table is None:
            continue
        clean, rejected = _validate_table(raw_table, table, kept, warnings)
        kept[table.name], quarantine[table.name] = clean, rejected
        reasons = rejected["reasons"].str.split("; ").explode().value_counts().to_dict() if len(rejected) else {}
        reports[table.name] = TableReport(
            table.name, raw_table.origin, raw_table.sha256, len(raw_table.frame), len(clean), len(rejected), {str(k): int(v) for k, v in reasons.items()}
        )
        assert reports[table.name].reconciles(), f"{table.name}: counts do not reconcile"
    return IngestResult(kept, quarantine, reports, warnings)


def enforce_quarantine_limit(result: IngestResult, params: IngestParams) -> None:
    """Stop when a table lost too many rows; call after the quarantine is written, so the user can read it."""
    for report in result.reports.values():
        if report.rows_in and report.rows_quarantined / report.rows_in > params.max_quarantine_share:
            top = ", ".join(f"{reason} ({count})" for reason, count in list(report.reasons.items())[:3])
            raise QuarantineLimitError(
                f"{report.origin}: {report.rows_quarantined} of {report.rows_in} rows were quarantined "
                f"({report.rows_quarantined / report.rows_in:.1%}, above ingest.max_quarantine_share = "
                f"{params.max_quarantine_share:.1%}). Most common: {top}. Fix the extract, or raise the limit "
                "in the parameters if this is expected; the quarantine file lists every row."
            )
