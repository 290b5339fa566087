"""Review store: migrations, override round trips, optimistic concurrency, append-only audit log.

Every test runs on SQLite and, when TQP_TEST_PG_URL is set (CI), on PostgreSQL.
"""

from __future__ import annotations

import multiprocessing

import pytest
import sqlalchemy as sa
import test_review_fixtures as fx
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from test_review_fixtures import quota_increment_worker, session_for

from plan_lib.review.admin import export_overrides
from plan_lib.review.errors import AuditLogError, StaleEditError, StoreError
from plan_lib.review.models import AuditEntry, Base
from plan_lib.review.store import current_revision, head_revision, open_store

store_url, review, pg_url, run_dir = fx.store_url, fx.review, fx.pg_url, fx.run_dir  # fixtures from test_review_fixtures, used by name below


def test_migrations_upgrade_an_empty_database_to_head(store_url: str) -> None:
    store = open_store(store_url)
    try:
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            assert {"users", "plan_versions", "pilot_members", "overrides", "comments", "audit_log"} <= tables
            # the migrated schema is exactly what the ORM models describe (no drift)
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        open_store(store_url).dispose()  # a second open is a no-op, not a failure
    finally:
        store.dispose()


def test_an_in_memory_sqlite_store_is_refused() -> None:
    with pytest.raises(StoreError, match="SQLite file"):
        open_store("sqlite://")


def test_every_override_kind_round_trips(review, store_url: str) -> None:
    store, version = review
    manager = session_for(store, version, "M1")
    accounts = manager.accounts().set_index("account_id")
    moved = accounts.index[accounts["rep_id"] == "R1"][0]
    locked = accounts.index[accounts["rep_id"] == "R3"][0]
    manager.reassign(moved, "R2", "R2 knows their CFO", int(accounts.at[moved, "etag"]))
    manager.lock(locked, "renewal in flight", int(accounts.at[locked, "etag"]))
    manager.set_quota("R1", 150_000.0, "territory grew", 0)

    reopened = open_store(store_url)  # a new connection sees exactly what was written
    try:
        again = session_for(reopened, version, "M1")
        accounts = again.accounts().set_index("account_id")
        assert accounts.at[moved, "rep_id"] == "R2" and accounts.at[moved, "draft_rep_id"] == "R1"
        assert accounts.at[locked, "locked_to"] == "R3"
        quotas = again.quotas().set_index("rep_id")
        assert quotas.at["R1", "quota"] == 150_000.0 and quotas.at["R1", "adjusted"]
        exported = export_overrides(reopened, version).set_index("kind")
        assert set(exported.index) == {"reassign", "lock", "quota"}
        assert exported.at["reassign", "rep_id"] == "R2" and exported.at["reassign", "from_rep_id"] == "R1"
        assert exported.at["reassign", "reason"] == "R2 knows their CFO"
        assert exported.at["lock", "account_id"] == locked and exported.at["quota", "quota"] == 150_000.0
        assert all(author == "Mia Manager (M1)" for author in exported["author"])
        assert exported["updated_at"].notna().all()

        # withdrawing keeps history: the row stays (inactive) and its etag moves on
        etag = int(accounts.at[locked, "etag"])
        result = again.unlock(locked, "renewal signed", etag)
        assert result.etag == etag + 1
        back = again.reassign(moved, "R1", "back to the draft owner", int(accounts.at[moved, "etag"]))
        assert back.etag == 2
        assert set(export_overrides(reopened, version)["kind"]) == {"quota"}
        history = again.history()
        assert list(history["action"].iloc[-5:]) == ["reassign", "lock", "quota", "unlock", "reassign"]
    finally:
        reopened.dispose()


def test_a_stale_edit_is_refused_with_what_changed_and_by_whom(review) -> None:
    store, version = review
    manager, revops = session_for(store, version, "M1"), session_for(store, version, "ops1")
    seen = manager.accounts().set_index("account_id")
    account = seen.index[seen["rep_id"] == "R1"][0]
    revops.reassign(account, "R3", "rebalancing", int(seen.at[account, "etag"]))
    audit_before = len(manager.history())
    with pytest.raises(StaleEditError) as refused:
        manager.reassign(account, "R2", "I saw it with R1", int(seen.at[account, "etag"]))
    message = str(refused.value)
    assert "Olga Ops (ops1)" in message and f"moved {account} from R1 to R3" in message and "refresh" in message
    assert refused.value.changes[0].action == "reassign"
    now = manager.accounts().set_index("account_id")
    assert now.at[account, "rep_id"] == "R3"  # the other edit was not overwritten
    assert len(manager.history()) == audit_before  # and the refused one left no trace
    with pytest.raises(StaleEditError, match="quota of R2"):
        revops.set_quota("R2", 1.0, "first", 0)
        manager.set_quota("R2", 2.0, "second, on a stale view", 0)


def test_edits_of_different_accounts_from_the_same_view_both_succeed(review) -> None:
    store, version = review
    first, second = session_for(store, version, "M1"), session_for(store, version, "D1")
    view = first.accounts().set_index("account_id")
    a, b = view.index[view["rep_id"] == "R1"][:2]
    first.reassign(a, "R2", "fit", int(view.at[a, "etag"]))
    second.reassign(b, "R3", "fit", int(view.at[b, "etag"]))
    now = first.accounts().set_index("account_id")
    assert (now.at[a, "rep_id"], now.at[b, "rep_id"]) == ("R2", "R3")


def test_the_audit_log_is_append_only(review) -> None:
    store, version = review
    session_for(store, version, "M1").set_quota("R1", 1000.0, "test", 0)
    with store.read() as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    with pytest.raises(AuditLogError), store.write() as session:  # ORM
        session.scalars(sa.select(AuditEntry)).first().summary = "rewritten"
    with pytest.raises(AuditLogError), store.write() as session:
        session.delete(session.scalars(sa.select(AuditEntry)).first())
    with pytest.raises(AuditLogError), store.engine.begin() as connection:  # Core
        connection.execute(sa.update(AuditEntry.__table__).values(summary="x"))
    for statement in ("UPDATE audit_log SET summary = 'x'", "DELETE FROM audit_log"):  # raw SQL: the trigger
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.exec_driver_sql(statement)
    with store.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == count
        assert "rewritten" not in set(session.scalars(sa.select(AuditEntry.summary)))


def test_concurrent_writer_processes_lose_nothing(review, store_url: str) -> None:
    """Four processes increment one shared quota (read-modify-write with retry) and move their own accounts."""
    store, version = review
    view = session_for(store, version, "D1")
    accounts = view.accounts().set_index("account_id")
    start = float(view.quotas().set_index("rep_id").at["R5", "quota"])
    own = {
        "M1": (list(accounts.index[accounts["rep_id"] == "R1"][:3]), ["R2"] * 3),
        "M2": (list(accounts.index[accounts["rep_id"] == "R6"][:3]), ["R7"] * 3),
        "D1": (list(accounts.index[accounts["rep_id"] == "R2"][:3]), ["R3"] * 3),
        "ops1": (list(accounts.index[accounts["rep_id"] == "R7"][:3]), ["R8"] * 3),
    }
    increments = 8
    jobs = [
        (store_url, version, user, "R5", increments, ids, targets) if user != "M1" else
        (store_url, version, user, "R1", increments, ids, targets)
        for user, (ids, targets) in own.items()
    ]
    store.dispose()  # no pooled connection crosses the fork (children open their own store)
    with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
        results = pool.starmap(quota_increment_worker, jobs)
    assert all(r["done"] == increments for r in results)
    assert all(r["own_stale"] == 0 for r in results), "edits of different accounts must not conflict"
    quotas = view.quotas().set_index("rep_id")
    assert quotas.at["R5", "quota"] == start + 3 * increments  # M2, D1, ops1 shared R5: no lost update
    history = view.history()
    assert (history["subject"] == "rep:R5").sum() == 3 * increments
    now = view.accounts().set_index("account_id")
    for ids, targets in own.values():
        assert list(now.loc[ids, "rep_id"]) == targets
