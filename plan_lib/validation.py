"""Row-level validation of one input table: parse, then check rules.

Two stages, so that nothing is guessed:

1. **Parse** each column by its contract kind with strict parsers (numbers,
   ``true``/``false``, ISO dates). A cell that does not parse is a row failure,
   not a silent missing value.
2. **Check** the typed frame against a pandera schema built from the contract:
   empty required cells, ranges, allowed values, uniqueness, and the row rules
   that span columns (an opportunity cannot close before it was created).

Both stages return *failures* (row position, column, value, reason); the caller
quarantines those rows. Table-level problems (a missing required column) raise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from plan_lib import arrowops
from plan_lib.contract import Column, Table
from plan_lib.errors import InputError

FAILURE_COLUMNS = ["position", "column", "value", "reason"]
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})


@dataclass(frozen=True)
class RowRule:
    """A rule across columns; ``column`` is the one the quarantine report blames."""

    column: str
    reason: str
    holds: Callable[[pd.DataFrame], pd.Series]


ROW_RULES: dict[str, tuple[RowRule, ...]] = {
    "opportunities": (
        RowRule("close_date", "close_date is before created_date", lambda f: ~(f["close_date"] < f["created_date"])),
        RowRule(
            "close_date",
            "a won or lost opportunity needs a close_date",
            lambda f: ~(f["stage"].isin(["won", "lost"]) & f["close_date"].isna()),
        ),
    ),
    "accounts": (
        RowRule("parent_account_id", "an account cannot be its own parent", lambda f: ~(f["parent_account_id"] == f["account_id"])),
    ),
    "reps": (RowRule("manager_id", "a rep cannot be their own manager", lambda f: ~(f["manager_id"] == f["rep_id"])),),
}


def failures_frame(rows: list[pd.DataFrame]) -> pd.DataFrame:
    rows = [r for r in rows if len(r)]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "position" else "str") for c in FAILURE_COLUMNS})
    return pd.concat(rows, ignore_index=True)[FAILURE_COLUMNS]


def _failures(mask: pd.Series, raw: pd.Series, column: str, reason: str) -> pd.DataFrame:
    positions = np.flatnonzero(mask.to_numpy())
    return pd.DataFrame(
        {
            "position": positions.astype("int64"),
            "column": column,
            "value": raw.iloc[positions].astype("str").to_numpy() if len(positions) else [],
            "reason": reason,
        }
    )


# ---------------------------------------------------------------- parsing


def _parse_number(raw: pd.Series, spec: Column) -> tuple[pd.Series, pd.DataFrame]:
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        numbers = raw.astype("float64")
        bad = pd.Series(False, index=raw.index)
    elif (fast := arrowops.parse_float(raw)) is not None:
        numbers = fast
        bad = pd.Series(False, index=raw.index)
    else:
        text = raw.astype("str").str.strip().where(raw.notna())
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
        bad = raw.notna() & numbers.isna()
    infinite = np.isinf(numbers.to_numpy())
    failures = [
        _failures(bad, raw, spec.name, f"'{spec.name}' is not a number"),
        _failures(pd.Series(infinite, index=raw.index), raw, spec.name, f"'{spec.name}' is infinite"),
    ]
    numbers = numbers.mask(infinite)
    if spec.kind == "int":
        fractional = numbers.notna() & (numbers != np.floor(numbers))
        failures.append(_failures(fractional, raw, spec.name, f"'{spec.name}' is not a whole number"))
        numbers = numbers.mask(fractional).astype("Int64")
    return numbers, failures_frame(failures)


def _parse_bool(raw: pd.Series, spec: Column) -> tuple[pd.Series, pd.DataFrame]:
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype("boolean"), failures_frame([])
    words = raw.astype("str").str.strip().str.lower().where(raw.notna())
    parsed = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    parsed[words.isin(TRUE_WORDS)] = True
    parsed[words.isin(FALSE_WORDS)] = False
    bad = raw.notna() & parsed.isna()
    return parsed, failures_frame([_failures(bad, raw, spec.name, f"'{spec.name}' is not true/false")])


def _parse_date(raw: pd.Series, spec: Column) -> tuple[pd.Series, pd.DataFrame]:
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw.dt.tz_localize(None).dt.normalize().astype("datetime64[s]") if raw.dt.tz is not None else raw.dt.normalize().astype("datetime64[s]"), failures_frame([])
    text = raw.astype("str").str.strip().where(raw.notna())
    # SQL drivers and some exports write "2026-01-02 00:00:00": accept a midnight time, nothing else.
    if text.str.len().max() > 10:
        text = text.str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(\.0+)?$", r"\1", regex=True)
    parsed = arrowops.parse_iso_dates(text)
    bad = raw.notna() & parsed.isna()
    return parsed, failures_frame([_failures(bad, raw, spec.name, f"'{spec.name}' is not a date written YYYY-MM-DD")])


def _parse_text(raw: pd.Series, spec: Column) -> tuple[pd.Series, pd.DataFrame]:
    if pd.api.types.is_string_dtype(raw) and not pd.api.types.is_object_dtype(raw):
        return raw, failures_frame([])
    text = raw.where(raw.isna(), raw.astype("str"))
    return text.astype("str").where(raw.notna()), failures_frame([])


PARSERS = {"int": _parse_number, "float": _parse_number, "bool": _parse_bool, "date": _parse_date, "str": _parse_text}
EMPTY_DTYPES = {"int": "Int64", "float": "float64", "bool": "boolean", "date": "datetime64[s]", "str": "str"}


def check_columns(frame: pd.DataFrame, table: Table, origin: str) -> list[str]:
    """Stop on a missing required column; return warnings for unknown and absent optional ones."""
    present = set(frame.columns)
    for spec in table.columns:
        if spec.required and spec.name not in present:
            raise InputError(
                origin,
                f"required column is missing (the file has: {', '.join(map(str, frame.columns)) or 'no columns'})",
                column=spec.name,
                fix=f"Add the column '{spec.name}' to table '{table.name}' (see README 'Data contract')",
            )
    warnings = [
        f"{origin}: column '{name}' is not part of the '{table.name}' contract; ignored"
        for name in frame.columns
        if name not in table.column_names
    ]
    warnings += [
        f"{origin}: optional column '{spec.name}' is absent; treated as empty"
        for spec in table.columns
        if spec.name not in present
    ]
    return warnings


def _blank_as_missing(raw: pd.Series) -> pd.Series:
    """Empty or whitespace-only text is a missing value, in every source (CSV, Parquet, SQL)."""
    if pd.api.types.is_string_dtype(raw) or pd.api.types.is_object_dtype(raw):
        blank = raw.astype("str").str.strip().eq("") & raw.notna()
        if blank.any():
            return raw.mask(blank)
    return raw


def parse_table(frame: pd.DataFrame, table: Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed frame in contract column order (absent optional columns empty) and parse failures."""
    frame = frame.reset_index(drop=True)
    typed: dict[str, pd.Series] = {}
    failures = []
    for spec in table.columns:
        if spec.name not in frame.columns:
            typed[spec.name] = pd.Series(pd.NA if spec.kind in ("int", "bool") else None, index=frame.index, dtype=EMPTY_DTYPES[spec.kind])
            continue
        column, column_failures = PARSERS[spec.kind](_blank_as_missing(frame[spec.name]), spec)
        typed[spec.name] = column
        failures.append(column_failures)
    return pd.DataFrame(typed, index=frame.index), failures_frame(failures)


# ---------------------------------------------------------------- rules


def _column_checks(spec: Column) -> list[pa.Check]:
    checks = []
    if spec.min is not None:
        checks.append(pa.Check.ge(spec.min, error=f"'{spec.name}' is below the minimum {spec.min:g}"))
    if spec.max is not None:
        checks.append(pa.Check.le(spec.max, error=f"'{spec.name}' is above the maximum {spec.max:g}"))
    if spec.allowed is not None:
        checks.append(pa.Check.isin(list(spec.allowed), error=f"'{spec.name}' is not one of: {', '.join(spec.allowed)}"))
    return checks


def schema_for(table: Table) -> pa.DataFrameSchema:
    """The pandera schema of a parsed table: nullability, ranges, allowed values, keys, row rules."""
    columns = {
        spec.name: pa.Column(
            EMPTY_DTYPES[spec.kind],
            _column_checks(spec),
            nullable=spec.nullable,
            unique=spec.unique,
            report_duplicates="all",
        )
        for spec in table.columns
    }
    checks = [pa.Check(rule.holds, error=rule.reason) for rule in ROW_RULES.get(table.name, ())]
    if table.unique_together:
        key = list(table.unique_together)
        checks.append(
            pa.Check(lambda f, key=key: ~f.duplicated(key, keep=False), error=f"duplicate key ({', '.join(key)})")
        )
    return pa.DataFrameSchema(columns, checks=checks, strict=False, coerce=False)


def _blamed_column(table: Table, reason: str) -> str:
    for rule in ROW_RULES.get(table.name, ()):
        if rule.reason == reason:
            return rule.column
    if reason.startswith("duplicate key"):
        return ",".join(table.unique_together)
    return ""


def _readable(check: str, column: str, table: Table) -> str:
    if check == "not_nullable":
        return f"'{column}' is empty but required"
    if check == "field_uniqueness":
        return f"'{column}' is duplicated (the same value appears on several rows; all are held back)"
    return check


def check_rules(typed: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Failures of the pandera schema, one row per (row position, reason)."""
    try:
        schema_for(table).validate(typed, lazy=True)
        return failures_frame([])
    except pa.errors.SchemaErrors as error:
        cases = error.failure_cases
    cases = cases[cases["index"].notna()].copy()
    is_frame_check = cases["schema_context"] == "DataFrameSchema"
    cases.loc[is_frame_check, "column"] = [_blamed_column(table, c) for c in cases.loc[is_frame_check, "check"]]
    cases["reason"] = [_readable(str(k), str(c), table) for k, c in zip(cases["check"], cases["column"], strict=True)]
    cases = cases.drop_duplicates(["index", "reason"])
    return pd.DataFrame(
        {
            "position": cases["index"].astype("int64").to_numpy(),
            "column": cases["column"].astype("str").to_numpy(),
            "value": cases["failure_case"].astype("str").to_numpy(),
            "reason": cases["reason"].to_numpy(),
        }
    )
