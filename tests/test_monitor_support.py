"""Hand-made plans for the monitoring tests (no tests here: builders only).

``tiny_plan``: six accounts, three reps, eight opportunities, with attainment,
pacing, coverage and allocation worked out by hand in the tests.

``grid_plan``: a balanced plan on real geography (6 states, 2 reps each, 20
accounts per rep, identical books and identical deal patterns), so that nothing
is out of line; tests then plant one problem at a time.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

START, END = dt.date(2027, 1, 1), dt.date(2027, 3, 31)  # 90 days
AS_OF = dt.date(2027, 2, 14)  # day 45: half the period has elapsed


def _ts(values: list[str | None]) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype="object")).astype("datetime64[s]")


def tiny_plan() -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    reps = pd.DataFrame({
        "rep_id": ["VP1", "M1", "M2", "R1", "R2", "R3"],
        "name": ["V", "M one", "M two", "R one", "R two", "R three"],
        "role": ["vp", "manager", "manager", "rep", "rep", "rep"],
        "manager_id": [None, "VP1", "VP1", "M1", "M1", "M2"],
        "segment": [None, "SMB", "Mid-Market", "SMB", "SMB", "Mid-Market"],
        "region": [None, "West", "East", "West", "West", "East"],
        "home_lat": [np.nan, np.nan, np.nan, 37.7, 45.5, 40.7],
        "home_lon": [np.nan, np.nan, np.nan, -122.4, -122.7, -74.0],
        "capacity_fte": [0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
        "status": ["active"] * 6,
    })
    accounts = pd.DataFrame({
        "account_id": ["A1", "A2", "A3", "A4", "A5", "A6"],
        "state": ["CA", "OR", "CA", "NY", "NY", "NY"],
        "county_fips": ["06075", "41051", "06001", "36061", "36047", "36061"],
        "industry": ["Software", "Software", "Retail", "Software", "Retail", "Retail"],
        "lat": [37.8, 45.5, 37.8, 40.8, 40.7, 40.75],
        "lon": [-122.4, -122.7, -122.3, -74.0, -73.9, -73.95],
        "is_customer": [True, False, False, True, False, False],
        "current_arr": [10.0, 0.0, 0.0, 5.0, 0.0, 0.0],
    })
    opportunities = pd.DataFrame({
        "opportunity_id": [f"O{k}" for k in range(1, 9)],
        "account_id": ["A1", "A2", "A3", "A3", "A4", "A5", "A4", "A1"],
        "owner_rep_id": ["R1", "R1", "R2", "R2", "R3", "R3", "R3", "R1"],
        "created_date": _ts(["2026-12-01", "2027-01-02", "2026-12-15", "2027-01-05", "2027-01-10", "2027-03-01",
                             "2026-10-01", "2026-09-01"]),
        "close_date": _ts(["2027-01-10", "2027-02-20", "2027-01-20", None, "2027-02-14", "2027-03-10", "2026-12-20",
                           "2026-11-01"]),
        "stage": ["won", "won", "lost", "open", "won", "won", "won", "lost"],
        "amount": [30.0, 50.0, 40.0, 100.0, 150.0, 80.0, 999.0, 70.0],
    })
    # A6 is a new account nobody holds in the plan
    assignments = pd.DataFrame({
        "account_id": ["A1", "A2", "A3", "A4", "A5"],
        "rep_id": ["R1", "R1", "R2", "R3", "R3"],
        "potential": [60.0, 40.0, 80.0, 100.0, 300.0],
    })
    quotas = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "manager_id": ["M1", "M1", "M2"], "segment": ["SMB", "SMB", "Mid-Market"],
                           "region": ["West", "West", "East"], "quota": [100.0, 200.0, 300.0]})
    return {"reps": reps, "accounts": accounts, "opportunities": opportunities}, assignments, quotas


#: (state, centre lat, centre lon) of the grid plan's six states, two per region
GRID_STATES = (("CA", 36.8, -119.4), ("WA", 47.4, -120.5), ("TX", 31.0, -99.0), ("IL", 40.0, -89.2),
               ("NY", 42.9, -75.5), ("FL", 28.1, -81.7))
REGION = {"CA": "West", "WA": "West", "TX": "Central", "IL": "Central", "NY": "East", "FL": "East"}


def grid_plan(accounts_per_rep: int = 20) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    """Balanced: identical books, identical deal patterns in every state (see module docstring)."""
    reps_rows = [("VP1", "vp", None, None, None, np.nan, np.nan, 0.0), ("M1", "manager", "VP1", None, None, np.nan, np.nan, 0.0),
                 ("M2", "manager", "VP1", None, None, np.nan, np.nan, 0.0)]
    acc_rows, opp_rows = [], []
    k = 0
    for s, (state, lat, lon) in enumerate(GRID_STATES):
        for j in range(2):
            rid = f"R{2 * s + j + 1}"
            home = (lat + (0.4 if j else -0.4), lon)
            reps_rows.append((rid, "rep", "M1" if s < 3 else "M2", "SMB", REGION[state], home[0], home[1], 1.0))
            for i in range(accounts_per_rep):
                k += 1
                aid = f"A{k:04d}"
                angle = 2 * np.pi * i / accounts_per_rep
                acc_rows.append((aid, rid, state, f"{s:02d}{i % 3:03d}", "Software" if i % 2 else "Retail",
                                 home[0] + 0.3 * np.sin(angle), home[1] + 0.3 * np.cos(angle)))
                day = dt.date(2027, 1, 2) + dt.timedelta(days=i)  # bookings spread over the first weeks
                opp_rows.append((aid, "2026-05-01", str(dt.date(2026, 6, 1) + dt.timedelta(days=7 * i)), "won", 100.0))
                opp_rows.append((aid, "2026-06-01", str(dt.date(2026, 9, 1) + dt.timedelta(days=5 * i)), "lost", 100.0))
                if i % 4 == 1:  # a quarter of the accounts booked in the period, another quarter has a deal open
                    opp_rows.append((aid, "2026-11-01", str(day), "won", 600.0))
                if i % 4 == 0:
                    opp_rows.append((aid, "2027-01-10", None, "open", 1000.0))
    reps = pd.DataFrame(reps_rows, columns=["rep_id", "role", "manager_id", "segment", "region", "home_lat", "home_lon", "capacity_fte"])
    reps["status"] = "active"
    reps["name"] = reps["rep_id"]
    accounts = pd.DataFrame(acc_rows, columns=["account_id", "current_owner", "state", "county_fips", "industry", "lat", "lon"])
    accounts["is_customer"] = False
    accounts["current_arr"] = 0.0
    opps = pd.DataFrame(opp_rows, columns=["account_id", "created_date", "close_date", "stage", "amount"])
    opps.insert(0, "opportunity_id", [f"O{i:05d}" for i in range(len(opps))])
    opps["owner_rep_id"] = opps["account_id"].map(accounts.set_index("account_id")["current_owner"])
    opps["created_date"] = _ts(opps["created_date"].tolist())
    opps["close_date"] = _ts(opps["close_date"].tolist())
    assignments = pd.DataFrame({"account_id": accounts["account_id"], "rep_id": accounts["current_owner"], "potential": 1000.0,
                                "segment": "SMB"})
    book = assignments.groupby("rep_id")["potential"].sum()
    carriers = reps[reps["role"] == "rep"]
    quotas = pd.DataFrame({"rep_id": carriers["rep_id"].to_numpy(), "manager_id": carriers["manager_id"].to_numpy(),
                           "segment": "SMB", "region": carriers["region"].to_numpy(),
                           "quota": 0.25 * carriers["rep_id"].map(book).to_numpy()})
    return {"reps": reps, "accounts": accounts, "opportunities": opps}, assignments, quotas
