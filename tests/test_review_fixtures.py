"""Shared helpers of the review tests: a synthetic draft run folder and stores on SQLite/PostgreSQL.

No tests here; the review test modules import these helpers (and the
multiprocessing workers live here so spawned children can import them).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from plan_lib.review.access import ReviewSession
from plan_lib.review.admin import add_user, create_plan_version, sync_users
from plan_lib.review.errors import StaleEditError
from plan_lib.review.store import Store, open_store
from plan_lib.rundir import RunFolder

PG_ENV = "TQP_TEST_PG_URL"

# Hierarchy: VP1 > D1 > (M1: R1-R4 SMB, M2: R5-R8 SMB); VP1 > M3: R9-R10 Enterprise. R4 is leaving.
REPS = [
    ("VP1", "Vera Prez", "vp", "", "", "West", "active", 0.0),
    ("D1", "Dan Director", "director", "VP1", "SMB", "West", "active", 0.0),
    ("M1", "Mia Manager", "manager", "D1", "SMB", "West", "active", 0.0),
    ("M2", "Max Manager", "manager", "D1", "SMB", "West", "active", 0.0),
    ("M3", "Meg Manager", "manager", "VP1", "Enterprise", "West", "active", 0.0),
    ("R1", "Rae One", "rep", "M1", "SMB", "West", "active", 1.0),
    ("R2", "Rex Two", "rep", "M1", "SMB", "West", "active", 1.0),
    ("R3", "Ria Three", "rep", "M1", "SMB", "West", "active", 0.5),
    ("R4", "Roy Four", "rep", "M1", "SMB", "West", "leaving", 1.0),
    ("R5", "Rob Five", "rep", "M2", "SMB", "West", "active", 1.0),
    ("R6", "Rita Six", "rep", "M2", "SMB", "West", "active", 1.0),
    ("R7", "Ron Seven", "rep", "M2", "SMB", "West", "active", 1.0),
    ("R8", "Rosa Eight", "rep", "M2", "SMB", "West", "active", 1.0),
    ("R9", "Ray Nine", "rep", "M3", "Enterprise", "West", "active", 1.0),
    ("R10", "Ruth Ten", "rep", "M3", "Enterprise", "West", "active", 1.0),
]
SMB_REPS = ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8"]
ENT_REPS = ["R9", "R10"]


def make_run(folder: Path, n_accounts: int = 60, seed: int = 3) -> Path:
    """Write a small, valid draft run (reps, accounts, scores, assignments, books, quotas)."""
    rng = np.random.default_rng(seed)
    run = RunFolder(folder)
    reps = pd.DataFrame(REPS, columns=["rep_id", "name", "role", "manager_id", "segment", "region", "status", "capacity_fte"])
    reps["email"] = reps["rep_id"].str.lower() + "@example.com"
    ids = [f"A{i:03d}" for i in range(1, n_accounts + 1)]
    segment = np.where(np.arange(n_accounts) % 5 == 4, "Enterprise", "SMB")
    owners, counters = [], {"SMB": 0, "Enterprise": 0}
    for seg in segment:
        pool = SMB_REPS if seg == "SMB" else ENT_REPS
        owners.append(pool[counters[seg] % len(pool)])
        counters[seg] += 1
    potential = np.round(rng.lognormal(11, 0.5, n_accounts), 0)
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "name": [f"Company {i}" for i in ids],
            "industry": rng.choice(["Software", "Retail", "Healthcare"], n_accounts),
            "state": rng.choice(["CA", "OR", "WA"], n_accounts),
            "lat": rng.uniform(33, 47, n_accounts),
            "lon": rng.uniform(-123, -117, n_accounts),
            "is_customer": rng.random(n_accounts) < 0.3,
            "current_arr": np.round(rng.uniform(0, 50000, n_accounts), 0),
            "parent_account_id": [None] * n_accounts,
        }
    )
    scores = pd.DataFrame({"account_id": ids, "segment": segment, "potential": potential, "propensity": rng.uniform(0.05, 0.5, n_accounts)})
    assignments = pd.DataFrame({"account_id": ids, "rep_id": owners, "previous_rep_id": owners, "moved": False, "reason": "kept"})
    merged = assignments.merge(scores, on="account_id").merge(accounts[["account_id", "is_customer"]], on="account_id")
    fte = reps.set_index("rep_id")["capacity_fte"]
    books = merged.groupby("rep_id").agg(
        segment=("segment", "first"), potential=("potential", "sum"), accounts=("account_id", "size"), customers=("is_customer", "sum")
    ).reset_index()
    books["fte"] = books["rep_id"].map(fte)
    books["potential_per_fte"] = books["potential"] / books["fte"]
    books["deviation"] = 0.0
    books["workload"] = books["accounts"] * 2.0
    books["region"] = "West"
    quotas = books[["rep_id", "segment", "region", "potential"]].copy()
    quotas["manager_id"] = quotas["rep_id"].map(reps.set_index("rep_id")["manager_id"])
    quotas["quota"] = np.round(quotas["potential"] * 0.3, -2)
    quotas["ideal"] = quotas["quota"]
    for name, frame in {"reps": reps, "accounts": accounts, "scores": scores, "assignments": assignments, "books": books, "quotas": quotas}.items():
        run.write_table(name, frame)
    return folder


def seed_store(store: Store, run_dir: Path, state: str = "review", pilot: tuple[str, ...] = ()) -> int:
    """Users from the reps hierarchy plus RevOps and admin; one plan version on ``run_dir``."""
    reps = pd.read_parquet(RunFolder(run_dir).table_path("reps"))
    sync_users(store, reps, roles=("manager", "director", "vp", "rep"))
    add_user(store, "ops1", "Olga Ops", "revops")
    add_user(store, "adm1", "Ada Admin", "admin")
    return create_plan_version(store, run_dir, name="2027Q1 draft", period="2027Q1", state=state, pilot=pilot)


def pg_base_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL variants need a server URL (CI sets it; locally run .ci/services.sh)")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema per test (dropped afterwards), as a store URL."""
    base = make_url(pg_base_url())
    schema = f"tqp_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'review.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One draft run for the whole session: the store only reads it."""
    return make_run(tmp_path_factory.mktemp("review") / "run")


@pytest.fixture
def review(store_url: str, run_dir: Path) -> Iterator[tuple[Store, int]]:
    store = open_store(store_url)
    version_id = seed_store(store, run_dir)
    yield store, version_id
    store.dispose()


def session_for(store: Store, version_id: int, user_id: str) -> ReviewSession:
    return ReviewSession(store, user_id, version_id)


# -- multiprocessing workers (spawned: they open their own store) ---------------------

def quota_increment_worker(url: str, version_id: int, user_id: str, rep_id: str, increments: int,
                           own_accounts: list[str], targets: list[str]) -> dict[str, int]:
    """Increment a shared quota with read-modify-write + retry, and move own accounts (no contention)."""
    store = open_store(url)
    session = ReviewSession(store, user_id, version_id)
    done = stale = own_stale = 0
    try:
        while done < increments:
            row = session.quotas().set_index("rep_id").loc[rep_id]
            try:
                session.set_quota(rep_id, float(row["quota"]) + 1.0, f"increment {done}", int(row["etag"]))
                done += 1
            except StaleEditError:
                stale += 1
        for account_id, target in zip(own_accounts, targets, strict=True):
            etag = int(session.accounts().set_index("account_id").at[account_id, "etag"])
            try:
                session.reassign(account_id, target, "worker move", etag)
            except StaleEditError:
                own_stale += 1
    finally:
        store.dispose()
    return {"done": done, "stale": stale, "own_stale": own_stale}
