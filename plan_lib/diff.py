"""``tqp diff``: what changed between two runs, in the order a planner asks.

1. parameters (key by key), 2. inputs (content hashes and row counts),
3. every output table, row by row on its key (added, removed, changed and which
columns), 4. the notebooks through nbdime, with volatile metadata (timings,
execution counts, papermill's bookkeeping) stripped first so only real changes show.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pandas as pd

from plan_lib.contract import TABLES_BY_NAME
from plan_lib.rundir import RunFolder

#: Keys of output tables written by the steps (contract tables use their own keys).
OUTPUT_KEYS: dict[str, tuple[str, ...]] = {
    "scores": ("account_id",),
    "assignments": ("account_id",),
    "books": ("rep_id",),
    "quotas": ("rep_id",),
    "rollup": ("node_id",),
    "intent_signals": (),
    "activities": (),
}
VOLATILE_METADATA = ("papermill", "execution", "collapsed", "scrolled", "ExecuteTime")


@dataclass
class TableDiff:
    name: str
    key: tuple[str, ...]
    rows_a: int
    rows_b: int
    added: pd.DataFrame = field(default_factory=pd.DataFrame)
    removed: pd.DataFrame = field(default_factory=pd.DataFrame)
    changed: pd.DataFrame = field(default_factory=pd.DataFrame)  # key + columns that changed
    identical: bool = True
    note: str = ""


@dataclass
class RunDiff:
    run_a: Path
    run_b: Path
    parameters: list[tuple[str, Any, Any]]
    inputs: list[tuple[str, Any, Any]]
    tables: list[TableDiff]
    notebooks: dict[str, str]


def _flatten(mapping: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(mapping, dict):
        flat: dict[str, Any] = {}
        for key, value in mapping.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): mapping}


def _changes(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    fa, fb = _flatten(a), _flatten(b)
    return [(k, fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]


def key_of(name: str, frame: pd.DataFrame) -> tuple[str, ...]:
    if name in TABLES_BY_NAME:
        return TABLES_BY_NAME[name].key
    if name in OUTPUT_KEYS:
        return OUTPUT_KEYS[name]
    first = frame.columns[0] if len(frame.columns) else None
    return (first,) if first is not None and frame[first].is_unique else ()


def diff_tables(name: str, a: pd.DataFrame, b: pd.DataFrame) -> TableDiff:
    """Row-level differences of two versions of one table, by its key."""
    key = key_of(name, a if len(a.columns) else b)
    result = TableDiff(name, key, len(a), len(b))
    if not key or not set(key) <= set(a.columns) & set(b.columns):
        result.identical = a.equals(b)
        result.note = "no key: compared as a whole"
        return result
    ia, ib = a.set_index(list(key)), b.set_index(list(key))
    result.added = ib.loc[ib.index.difference(ia.index)].reset_index()
    result.removed = ia.loc[ia.index.difference(ib.index)].reset_index()
    common = ia.index.intersection(ib.index)
    columns = [c for c in ia.columns if c in ib.columns]
    left, right = ia.loc[common, columns], ib.loc[common, columns]
    changed_rows = []
    for column in columns:
        x, y = left[column], right[column]
        both_missing = x.isna().to_numpy() & y.isna().to_numpy()
        if pd.api.types.is_float_dtype(x) and pd.api.types.is_float_dtype(y):
            same = np.isclose(x.to_numpy(dtype=float), y.to_numpy(dtype=float), rtol=1e-9, atol=1e-9, equal_nan=True)
        else:
            same = (x.astype("str").to_numpy() == y.astype("str").to_numpy()) | both_missing
        if not same.all():
            changed_rows.append(pd.Series(column, index=common[~same]))
    if changed_rows:
        by_row = pd.concat(changed_rows).groupby(level=list(range(len(key)))).agg(", ".join)
        result.changed = by_row.rename("changed_columns").reset_index()
    added_columns = set(ib.columns) - set(ia.columns)
    removed_columns = set(ia.columns) - set(ib.columns)
    if added_columns or removed_columns:
        result.note = f"columns added: {sorted(added_columns)}; removed: {sorted(removed_columns)}"
    result.identical = not (len(result.added) or len(result.removed) or len(result.changed) or result.note)
    return result


def _strip_volatile(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(notebook)
    for key in VOLATILE_METADATA:
        notebook.metadata.pop(key, None)
    for cell in notebook.cells:
        cell.pop("id", None)
        for key in VOLATILE_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.execution_count = None
            for output in cell.get("outputs", []):
                output.pop("execution_count", None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = "\n".join(line for line in cell.source.splitlines() if not line.startswith(("run_dir", "params_path")))
    return notebook


def diff_notebooks(a: Path, b: Path) -> str:
    """Pretty nbdime diff of two executed notebooks, empty when they match."""
    import nbdime
    from nbdime.prettyprint import PrettyPrintConfig, pretty_print_diff

    nb_a, nb_b = (_strip_volatile(nbformat.read(p, as_version=4)) for p in (a, b))
    changes = nbdime.diff_notebooks(nb_a, nb_b)
    if not changes:
        return ""

    class Collect:
        def __init__(self) -> None:
            self.parts: list[str] = []

        def write(self, text: str) -> None:
            self.parts.append(text)

    sink = Collect()
    pretty_print_diff(nb_a, changes, "notebook", PrettyPrintConfig(out=sink))
    return "".join(sink.parts)


def diff_runs(run_a: Path, run_b: Path, notebooks: bool = True) -> RunDiff:
    a, b = RunFolder(run_a), RunFolder(run_b)
    ma, mb = a.manifest(), b.manifest()
    inputs = _changes(
        {k: {"sha256": v["sha256"], "rows_in": v["rows_in"]} for k, v in ma.get("inputs", {}).items()},
        {k: {"sha256": v["sha256"], "rows_in": v["rows_in"]} for k, v in mb.get("inputs", {}).items()},
    )
    tables = []
    for name in sorted(set(a.tables()) | set(b.tables())):
        ta = a.read_table(name) if a.has_table(name) else pd.DataFrame()
        tb = b.read_table(name) if b.has_table(name) else pd.DataFrame()
        tables.append(diff_tables(name, ta, tb))
    notebook_diffs: dict[str, str] = {}
    if notebooks:
        for path in sorted((a.path / "notebooks").glob("*.ipynb")):
            other = b.path / "notebooks" / path.name
            if other.exists():
                notebook_diffs[path.name] = diff_notebooks(path, other)
            else:
                notebook_diffs[path.name] = "(only in the first run)"
    return RunDiff(run_a, run_b, _changes(ma.get("parameters", {}), mb.get("parameters", {})), inputs, tables, notebook_diffs)


def format_diff(diff: RunDiff, max_rows: int = 10) -> str:
    """Human-readable report of a :class:`RunDiff`."""
    lines = [f"tqp diff\n  A: {diff.run_a}\n  B: {diff.run_b}", "", "== Parameters"]
    lines += [f"  {k}: {json.dumps(va, default=str)} -> {json.dumps(vb, default=str)}" for k, va, vb in diff.parameters] or ["  (same)"]
    lines += ["", "== Inputs"]
    lines += [f"  {k}: {va} -> {vb}" for k, va, vb in diff.inputs] or ["  (same)"]
    lines += ["", "== Output tables"]
    for table in diff.tables:
        if table.identical:
            lines.append(f"  {table.name}: identical ({table.rows_b} rows)")
            continue
        lines.append(
            f"  {table.name}: {table.rows_a} -> {table.rows_b} rows; added {len(table.added)}, "
            f"removed {len(table.removed)}, changed {len(table.changed)} (key: {', '.join(table.key) or '-'}) {table.note}"
        )
        if len(table.changed):
            lines.append("    " + table.changed.head(max_rows).to_string(index=False).replace("\n", "\n    "))
    lines += ["", "== Notebooks (nbdime, volatile metadata ignored)"]
    for name, text in diff.notebooks.items():
        lines.append(f"  {name}: " + ("no changes" if not text else "\n" + text))
    return "\n".join(lines)
