"""The SQL source gives the same clean tables as the CSV and Parquet sources."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandas.testing as pdt
from conftest import valid_tables, write_tables

from plan_lib.ingest import ingest
from plan_lib.sources import read_inputs, write_folder_to_sql


def clean(source: str) -> dict[str, pd.DataFrame]:
    return ingest(read_inputs(source)).tables


def test_sqlite_source_matches_csv_source(tmp_path: Path) -> None:
    folder = write_tables(tmp_path / "csv", valid_tables())
    url = f"sqlite:///{tmp_path / 'plan.db'}"
    write_folder_to_sql(folder, url)
    from_csv, from_sql = clean(str(folder)), clean(url)
    assert set(from_csv) == set(from_sql)
    for name in from_csv:
        pdt.assert_frame_equal(from_csv[name], from_sql[name], check_dtype=True, obj=name)


def test_parquet_source_matches_csv_source(tmp_path: Path) -> None:
    folder = write_tables(tmp_path / "csv", valid_tables())
    parquet = tmp_path / "parquet"
    parquet.mkdir()
    for name, frame in valid_tables().items():
        frame.to_parquet(parquet / f"{name}.parquet")
    for name, frame in clean(str(folder)).items():
        pdt.assert_frame_equal(frame, clean(str(parquet))[name], obj=name)


def test_typed_parquet_is_accepted_without_text_round_trip(tmp_path: Path) -> None:
    """A Parquet export with real numbers, dates and booleans validates to the same tables."""
    folder = write_tables(tmp_path / "csv", valid_tables())
    typed = tmp_path / "typed"
    typed.mkdir()
    for name, frame in clean(str(folder)).items():
        frame.to_parquet(typed / f"{name}.parquet")
    for name, frame in clean(str(folder)).items():
        pdt.assert_frame_equal(frame, clean(str(typed))[name], obj=name)
