"""Shared fixtures: a tiny, valid, hand-made input folder that tests then break on purpose."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]


def valid_tables() -> dict[str, pd.DataFrame]:
    """The smallest data set that exercises every table and reference (all text, as in a CSV)."""
    reps = pd.DataFrame(
        {
            "rep_id": ["VP1", "M1", "R1", "R2", "R3"],
            "name": ["Val Prez", "Max Manager", "Rae One", "Rex Two", ""],
            "email": ["vp@x.com", "m1@x.com", "r1@x.com", "r2@x.com", ""],
            "role": ["vp", "manager", "rep", "rep", "rep"],
            "manager_id": ["", "VP1", "M1", "M1", "M1"],
            "segment": ["", "SMB", "SMB", "SMB", "SMB"],
            "region": ["", "West", "West", "West", "West"],
            "home_lat": ["", "", "37.77", "34.05", "45.52"],
            "home_lon": ["", "", "-122.42", "-118.24", "-122.68"],
            "start_date": ["2015-01-05", "2018-02-01", "2020-03-02", "2026-10-01", "2027-02-01"],
            "capacity_fte": ["0", "0", "1.0", "0.5", "1.0"],
            "status": ["active", "active", "active", "active", "open"],
        }
    )
    accounts = pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3", "A4", "A5", "A6"],
            "name": ["Alpha", "Beta", "Gamma", "Delta", "Eps", "Zeta"],
            "parent_account_id": ["", "A1", "", "", "", ""],
            "country": ["US"] * 6,
            "state": ["CA", "CA", "OR", "CA", "WA", "CA"],
            "county_fips": ["06075", "06037", "41051", "06001", "53033", "06075"],
            "postal_code": ["94105", "90012", "97201", "94607", "98101", "94110"],
            "lat": ["37.79", "34.06", "45.51", "37.80", "47.61", ""],
            "lon": ["-122.39", "-118.24", "-122.69", "-122.27", "-122.33", ""],
            "industry": ["Software", "Software", "Retail", "Healthcare", "Software", "Retail"],
            "employees": ["50", "20", "80", "15", "60", "5"],
            "annual_revenue": ["9000000", "2000000", "12000000", "1500000", "8000000", "400000"],
            "is_customer": ["true", "false", "true", "false", "false", "false"],
            "current_arr": ["30000", "", "12000", "", "", ""],
            "current_owner": ["R1", "R1", "R2", "R1", "R2", ""],
            "segment": [""] * 6,
        }
    )
    opportunities = pd.DataFrame(
        {
            "opportunity_id": ["O1", "O2", "O3", "O4"],
            "account_id": ["A1", "A3", "A4", "A5"],
            "owner_rep_id": ["R1", "R2", "R1", "R-FORMER"],
            "created_date": ["2025-01-10", "2025-03-01", "2026-11-01", "2025-06-01"],
            "close_date": ["2025-03-01", "2025-05-01", "", "2025-08-15"],
            "stage": ["won", "lost", "open", "won"],
            "amount": ["25000", "10000", "8000", "15000"],
        }
    )
    intent = pd.DataFrame(
        {
            "account_id": ["A1", "A4", "A5"],
            "date": ["2026-11-01", "2026-12-01", "2026-10-15"],
            "topic": ["crm", "analytics", "crm"],
            "strength": ["70", "35", "90"],
        }
    )
    targets = pd.DataFrame(
        {"period": ["2027Q1"], "segment": ["SMB"], "region": ["West"], "bookings_target": ["120000"]}
    )
    return {"reps": reps, "accounts": accounts, "opportunities": opportunities, "intent_signals": intent, "targets": targets}


def write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    return valid_tables()


@pytest.fixture
def data_folder(tmp_path: Path) -> Path:
    return write_tables(tmp_path / "data", valid_tables())
