"""Where input tables come from: a folder of CSV/Parquet files or a SQL database.

Sources return *raw* tables: CSV cells stay text so that the validator, not the
reader, decides what is a number or a date (a reader that guesses types would
silently turn a ZIP code "02134" into 2134 or a typo into a missing value).
Each table comes with a description of where it was read from, a content hash
and its row count, which the run manifest records.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa

from plan_lib.contract import KNOWN_EXTRAS, TABLES, TABLES_BY_NAME
from plan_lib.errors import InputError

SUFFIXES = (".csv", ".parquet")


@dataclass
class RawTable:
    """One table as read, before validation."""

    name: str
    frame: pd.DataFrame
    origin: str  # file path or "URL#table", used in every message about this table
    sha256: str
    is_text: bool  # True for CSV: every cell is a string to parse
    line_offset: int = 2  # CSV data row 1 sits on line 2 (after the header)


@dataclass
class RawInputs:
    tables: dict[str, RawTable]
    warnings: list[str] = field(default_factory=list)
    source: str = ""


def is_sql_url(source: str) -> bool:
    return "://" in source


def read_inputs(source: str | Path, table_names: dict[str, str] | None = None) -> RawInputs:
    """Read every contract table from a folder or a SQL URL."""
    source_str = str(source)
    if is_sql_url(source_str):
        return _read_sql(source_str, table_names or {})
    return _read_folder(Path(source_str), table_names or {})


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256_frame(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes())
    digest.update(",".join(map(str, frame.columns)).encode())
    return digest.hexdigest()


def _read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV with every column as text; empty cells become missing values."""
    try:
        with path.open("r", encoding="utf-8", newline="") as handle:
            names = next(csv.reader(handle), None)
        if not names:
            raise InputError(str(path), "is empty (no header row)", fix="Export the table with a header row naming the columns")
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except UnicodeDecodeError as error:
        raise InputError(str(path), f"is not UTF-8 text ({error.reason} at byte {error.start})", fix="Save it as UTF-8 CSV with a header row") from None
    except pa.ArrowInvalid as error:
        raise InputError(str(path), f"cannot be read as CSV: {error}", fix="Check the delimiter (comma), quoting and the number of fields on each line") from None
    return table.to_pandas()


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pq.read_table(path).to_pandas()
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(str(path), f"cannot be read as Parquet: {error}", fix="Re-export the table as Parquet or CSV") from None


def _read_folder(folder: Path, table_names: dict[str, str]) -> RawInputs:
    if not folder.is_dir():
        raise InputError(str(folder), "is not a folder", fix="Pass --data a folder of CSV/Parquet files or a SQL URL (e.g. sqlite:///plan.db)")
    warnings: list[str] = []
    tables: dict[str, RawTable] = {}
    expected_stems = {table_names.get(t.name, t.name): t.name for t in TABLES}
    for entry in sorted(folder.iterdir()):
        stem, suffix = entry.stem, entry.suffix.lower()
        if entry.name.startswith(".") or entry.name in KNOWN_EXTRAS:
            continue
        if suffix not in SUFFIXES or stem not in expected_stems:
            warnings.append(f"{entry}: not a table of the data contract; ignored (expected one of: {', '.join(sorted(expected_stems))} as .csv or .parquet)")
            continue
        name = expected_stems[stem]
        if name in tables:
            raise InputError(str(entry), f"table '{name}' is given twice ({tables[name].origin} and {entry.name})", fix="Keep one of the two files")
        if suffix == ".csv":
            frame, is_text = _read_csv(entry), True
        else:
            frame, is_text = _read_parquet(entry), False
        tables[name] = RawTable(name, frame, str(entry), _sha256_file(entry), is_text)
    for table in TABLES:
        if table.required and table.name not in tables:
            stem = table_names.get(table.name, table.name)
            raise InputError(str(folder / f"{stem}.csv"), f"required table '{table.name}' is missing", fix=f"Add {stem}.csv or {stem}.parquet to {folder} (see README 'Data contract')")
    return RawInputs(tables, warnings, str(folder))


def _read_sql(url: str, table_names: dict[str, str]) -> RawInputs:
    try:
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            existing = set(sa.inspect(connection).get_table_names())
            tables: dict[str, RawTable] = {}
            for table in TABLES:
                sql_name = table_names.get(table.name, table.name)
                if sql_name not in existing:
                    if table.required:
                        raise InputError(f"{_safe_url(url)}#{sql_name}", f"required table '{table.name}' is missing from the database", fix="Create it (see README 'Data contract') or map its name under ingest.tables")
                    continue
                frame = pd.read_sql_table(sql_name, connection)
                tables[table.name] = RawTable(table.name, frame, f"{_safe_url(url)}#{sql_name}", _sha256_frame(frame), is_text=False)
    except sa.exc.SQLAlchemyError as error:
        raise InputError(_safe_url(url), f"cannot read the database: {error.__class__.__name__}: {error}", fix="Check the URL, credentials and that the server is running") from None
    known = {table_names.get(t.name, t.name) for t in TABLES}
    warnings = [f"{_safe_url(url)}#{name}: not a table of the data contract; ignored" for name in sorted(existing - known)]
    return RawInputs(tables, warnings, _safe_url(url))


def _safe_url(url: str) -> str:
    """The URL without its password, for messages and manifests."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def write_folder_to_sql(folder: Path, url: str) -> None:
    """Load a folder of contract tables into a SQL database (the embedded SQLite example)."""
    engine = sa.create_engine(url)
    for table in TABLES:
        for suffix in SUFFIXES:
            path = folder / f"{table.name}{suffix}"
            if path.exists():
                frame = _read_csv(path) if suffix == ".csv" else _read_parquet(path)
                frame.to_sql(table.name, engine, if_exists="replace", index=False, chunksize=50_000)
    engine.dispose()


__all__ = ["RawInputs", "RawTable", "read_inputs", "is_sql_url", "write_folder_to_sql", "TABLES_BY_NAME"]
