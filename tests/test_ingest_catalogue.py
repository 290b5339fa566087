"""A catalogue of bad inputs: each fault gives a clear message or a quarantined row
with its column and reason, and counts always reconcile."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import valid_tables, write_tables

from plan_lib.errors import InputError, QuarantineLimitError
from plan_lib.ingest import IngestResult, enforce_quarantine_limit, ingest
from plan_lib.parameters import IngestParams, parse_parameters
from plan_lib.rundir import RunFolder
from plan_lib.sources import read_inputs
from plan_lib.steps import ingest_step


def run_ingest(folder: Path) -> IngestResult:
    result = ingest(read_inputs(folder))
    for report in result.reports.values():
        assert report.rows_in == report.rows_kept + report.rows_quarantined
    return result


def broken(tmp_path: Path, table: str, row: int, column: str, value: str) -> Path:
    tables = valid_tables()
    tables[table].loc[row, column] = value
    return write_tables(tmp_path / "data", tables)


def single_rejection(result: IngestResult, table: str) -> pd.Series:
    rejected = result.quarantine[table]
    assert len(rejected) == 1, rejected
    return rejected.iloc[0]


def test_valid_folder_keeps_every_row(data_folder: Path) -> None:
    result = run_ingest(data_folder)
    assert all(r.rows_quarantined == 0 for r in result.reports.values())
    assert result.tables["accounts"]["employees"].dtype == "Int64"
    assert result.tables["accounts"]["postal_code"].tolist()[0] == "94105"
    assert result.tables["accounts"]["is_customer"].tolist()[:2] == [True, False]


# ------------------------------------------------------------- fatal problems


def test_missing_required_table_names_the_file(data_folder: Path) -> None:
    (data_folder / "reps.csv").unlink()
    with pytest.raises(InputError, match=r"reps\.csv: required table 'reps' is missing.*Add reps\.csv"):
        read_inputs(data_folder)


def test_missing_required_column_names_file_and_column(tmp_path: Path) -> None:
    tables = valid_tables()
    tables["accounts"] = tables["accounts"].drop(columns="account_id")
    folder = write_tables(tmp_path / "data", tables)
    with pytest.raises(InputError, match=r"accounts\.csv, column 'account_id': required column is missing"):
        run_ingest(folder)


def test_file_that_is_not_utf8_is_refused(data_folder: Path) -> None:
    (data_folder / "targets.csv").write_bytes(b"period,bookings_target\n\xff\xfe2027Q1,10\n")
    with pytest.raises(InputError, match=r"targets\.csv: is not UTF-8"):
        read_inputs(data_folder)


def test_csv_with_a_ragged_line_is_refused(data_folder: Path) -> None:
    with (data_folder / "intent_signals.csv").open("a") as handle:
        handle.write("A1,2026-12-02,crm,50,extra,fields\n")
    with pytest.raises(InputError, match=r"intent_signals\.csv: cannot be read as CSV.*number of fields"):
        read_inputs(data_folder)


def test_empty_file_is_refused(data_folder: Path) -> None:
    (data_folder / "targets.csv").write_text("")
    with pytest.raises(InputError, match=r"targets\.csv: is empty"):
        read_inputs(data_folder)


def test_table_given_twice_is_refused(data_folder: Path) -> None:
    valid_tables()["targets"].to_parquet(data_folder / "targets.parquet")
    with pytest.raises(InputError, match="given twice"):
        read_inputs(data_folder)


def test_hierarchy_cycle_names_the_cycle(tmp_path: Path) -> None:
    folder = broken(tmp_path, "reps", 0, "manager_id", "M1")  # VP1 -> M1 -> VP1
    with pytest.raises(InputError, match=r"reps\.csv, column 'manager_id': 'manager_id' forms a cycle: .*VP1.*M1"):
        run_ingest(folder)


# ------------------------------------------------------------- row problems


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "reason"),
    [
        ("accounts", 2, "employees", "many", "'employees' is not a number"),
        ("accounts", 2, "employees", "12.5", "'employees' is not a whole number"),
        ("accounts", 3, "lat", "123.4", "'lat' is above the maximum 90"),
        ("accounts", 3, "is_customer", "maybe", "'is_customer' is not true/false"),
        ("accounts", 4, "current_arr", "-5", "'current_arr' is below the minimum 0"),
        ("opportunities", 1, "amount", "-100", "'amount' is below the minimum 0"),
        ("opportunities", 1, "created_date", "03/01/2025", "'created_date' is not a date written YYYY-MM-DD"),
        ("opportunities", 1, "created_date", "2025-02-30", "'created_date' is not a date written YYYY-MM-DD"),
        ("opportunities", 0, "stage", "closed-won", "'stage' is not one of: open, won, lost"),
        ("opportunities", 0, "close_date", "2024-12-31", "close_date is before created_date"),
        ("opportunities", 3, "close_date", "", "a won or lost opportunity needs a close_date"),
        ("intent_signals", 1, "strength", "150", "'strength' is above the maximum 100"),
        ("intent_signals", 2, "account_id", "A999", "'account_id' names no kept accounts.account_id"),
        ("reps", 3, "capacity_fte", "1.5", "'capacity_fte' is above the maximum 1"),
        ("reps", 3, "status", "retired", "'status' is not one of: active, leaving, open"),
        ("targets", 0, "bookings_target", "", "'bookings_target' is empty but required"),
    ],
)
def test_bad_cell_quarantines_its_row(tmp_path: Path, table: str, row: int, column: str, value: str, reason: str) -> None:
    result = run_ingest(broken(tmp_path, table, row, column, value))
    rejected = single_rejection(result, table)
    assert rejected["row"] == row + 1 and rejected["line"] == row + 2
    assert rejected["columns"] == column
    assert reason in rejected["reasons"]
    assert rejected[column] == value  # the original text is preserved, not the parsed value
    assert result.reports[table].rows_quarantined == 1


def test_duplicate_key_quarantines_every_copy(tmp_path: Path) -> None:
    result = run_ingest(broken(tmp_path, "accounts", 3, "account_id", "A3"))
    rejected = result.quarantine["accounts"]
    assert sorted(rejected["row"]) == [3, 4]
    assert rejected["reasons"].str.contains("'account_id' is duplicated").all()


def test_duplicate_composite_key_in_targets(tmp_path: Path) -> None:
    tables = valid_tables()
    tables["targets"] = pd.concat([tables["targets"]] * 2, ignore_index=True)
    result = run_ingest(write_tables(tmp_path / "data", tables))
    assert len(result.quarantine["targets"]) == 2
    assert result.quarantine["targets"]["reasons"].str.contains(r"duplicate key \(period, segment, region\)").all()


def test_unknown_owner_is_quarantined(tmp_path: Path) -> None:
    result = run_ingest(broken(tmp_path, "accounts", 2, "current_owner", "R404"))
    assert "'current_owner' names no kept reps.rep_id" in single_rejection(result, "accounts")["reasons"]


def test_rejected_manager_cascades_to_reports_and_their_accounts(tmp_path: Path) -> None:
    result = run_ingest(broken(tmp_path, "reps", 1, "manager_id", "NOBODY"))
    assert sorted(result.quarantine["reps"]["row"]) == [2, 3, 4, 5]  # M1 and everyone under M1
    assert result.reports["accounts"].rows_quarantined == 5  # every owned account; A6 (unowned) kept
    assert result.tables["accounts"]["account_id"].tolist() == ["A6"]


def test_rejected_parent_account_cascades_to_children_and_opportunities(tmp_path: Path) -> None:
    result = run_ingest(broken(tmp_path, "accounts", 0, "employees", "-3"))
    assert sorted(result.quarantine["accounts"]["row"]) == [1, 2]  # A1 and its child A2
    assert "'parent_account_id' names no kept row" in result.quarantine["accounts"].iloc[1]["reasons"]
    assert result.quarantine["opportunities"]["account_id"].tolist() == ["A1"]
    assert result.quarantine["intent_signals"]["account_id"].tolist() == ["A1"]


def test_former_rep_on_history_is_kept_with_a_warning(data_folder: Path) -> None:
    result = run_ingest(data_folder)
    assert result.reports["opportunities"].rows_quarantined == 0
    assert any("'owner_rep_id' not in reps (e.g. R-FORMER); kept as history" in w for w in result.warnings)


def test_unknown_column_and_file_are_warnings(tmp_path: Path) -> None:
    tables = valid_tables()
    tables["accounts"]["favourite_colour"] = "blue"
    folder = write_tables(tmp_path / "data", tables)
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    result = run_ingest(folder)
    assert any("column 'favourite_colour' is not part of the 'accounts' contract" in w for w in result.warnings)
    assert any("notes.csv: not a table of the data contract" in w for w in result.warnings)
    assert "favourite_colour" not in result.tables["accounts"].columns


def test_absent_optional_column_is_reported_and_empty(tmp_path: Path) -> None:
    tables = valid_tables()
    tables["accounts"] = tables["accounts"].drop(columns="industry")
    result = run_ingest(write_tables(tmp_path / "data", tables))
    assert any("optional column 'industry' is absent" in w for w in result.warnings)
    assert result.tables["accounts"]["industry"].isna().all()


def test_quarantine_limit_stops_after_writing_the_quarantine(tmp_path: Path) -> None:
    folder = broken(tmp_path, "opportunities", 1, "amount", "-100")  # 1 of 4 rows = 25%
    params = parse_parameters({"period": "2027Q1", "ingest": {"max_quarantine_share": 0.2}})
    run = RunFolder(tmp_path / "run")
    with pytest.raises(QuarantineLimitError, match=r"opportunities\.csv: 1 of 4 rows were quarantined .*max_quarantine_share"):
        ingest_step(str(folder), params, run)
    written = pd.read_csv(run.quarantine_path("opportunities"), dtype=str)
    assert written["reasons"].tolist() == ["'amount' is below the minimum 0"]
    enforce_quarantine_limit(run_ingest(folder), IngestParams(max_quarantine_share=0.3))  # under the limit: passes


def test_sql_source_missing_table_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    import sqlalchemy as sa

    with sa.create_engine(url).begin() as connection:
        connection.execute(sa.text("create table reps (rep_id text)"))
    with pytest.raises(InputError, match=r"empty\.db#accounts: required table 'accounts' is missing"):
        read_inputs(url)
