"""Opening the review database: engine settings, migrations, transactions.

SQLite is the default (one file next to the run folders, no server to run);
PostgreSQL is used by giving its URL. What matters for correctness:

- SQLite runs in WAL mode (readers never block the writer), with a busy
  timeout (a writer waits its turn instead of failing) and foreign keys on.
  Write transactions start with ``BEGIN IMMEDIATE``: the check "is the user's
  view still current?" and the write happen under one lock, so two editors can
  never both pass the check and overwrite each other.
- On PostgreSQL the same guarantee comes from a transaction-scoped advisory
  lock per edited subject (an account or a rep), so edits of different
  accounts still run in parallel.
- The schema is migrated by the Alembic revisions shipped inside the package;
  ``open_store`` upgrades an empty or older database to the latest revision,
  once, even when several processes open it at the same time.
- The audit log is append-only: refused here for ORM and Core statements, and
  by triggers in the database for anything else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Delete, Engine, Update, create_engine, event, func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from plan_lib.review.errors import AuditLogError, StoreError
from plan_lib.review.models import AuditEntry

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 60.0
#: Key of the PostgreSQL advisory lock that serialises concurrent migrations.
MIGRATION_LOCK_KEY = 0x7471_7072_6576_6965  # "tqprevie"
WRITE_OPTION = "tqp_write"


def normalise_url(url: str | URL) -> URL:
    """Parse a store URL; plain ``postgresql://`` uses psycopg 3, the driver tqp installs."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"cannot read the review store URL {url!r}: expected e.g. sqlite:///outputs/review.sqlite "
            "or postgresql://user:password@host:5432/db"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _configure_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below); the driver's own implicit BEGIN is off.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # durable in WAL mode across app crashes
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _refuse_audit_changes(engine: Engine) -> None:
    """Core-level guard: UPDATE/DELETE statements aimed at the audit log never reach the database."""

    @event.listens_for(engine, "before_execute", retval=False)
    def _before_execute(_conn: Any, clauseelement: Any, *_args: Any) -> None:
        if isinstance(clauseelement, Update | Delete) and getattr(clauseelement.table, "name", None) == "audit_log":
            raise AuditLogError("the audit log is append-only: UPDATE and DELETE are refused")


@event.listens_for(AuditEntry, "before_update")
def _no_orm_update(*_args: Any) -> None:
    raise AuditLogError("the audit log is append-only: an audit entry cannot be changed")


@event.listens_for(AuditEntry, "before_delete")
def _no_orm_delete(*_args: Any) -> None:
    raise AuditLogError("the audit log is append-only: an audit entry cannot be deleted")


def make_engine(url: str | URL, *, busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S) -> Engine:
    """An engine for the review store with the settings above (SQLite file or PostgreSQL)."""
    parsed = normalise_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            raise StoreError(
                "the review store needs a SQLite file (several people and processes share it): "
                "use e.g. sqlite:///outputs/review.sqlite, not an in-memory database"
            )
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": busy_timeout_s})
        _configure_sqlite(engine, busy_timeout_s)
    elif backend == "postgresql":
        engine = create_engine(parsed, pool_pre_ping=True)
    else:
        raise StoreError(f"review store backend {backend!r} is not supported: use sqlite:/// or postgresql://")
    _refuse_audit_changes(engine)
    return engine


def alembic_config(connection: Any | None = None) -> Config:
    """Alembic configuration pointing at the packaged revisions (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, write_engine: Engine) -> str:
    """Upgrade the database to the latest revision; safe when many processes call it at once."""
    head = head_revision()
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    current = current_revision(engine)
    if current == head:
        return head
    if current is not None and current not in known:
        raise StoreError(
            f"the review store is at schema revision {current!r}, which this tqp does not know: "
            "it was migrated by a newer tqp; upgrade tqp to open it"
        )
    with write_engine.begin() as connection:  # BEGIN IMMEDIATE on SQLite: one migrator at a time
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        command.upgrade(alembic_config(connection), "head")
    return head


def subject_lock_key(version_id: int, subject: str) -> int:
    """A stable signed 64-bit key for PostgreSQL advisory locks on one edited subject."""
    digest = hashlib.blake2b(f"{version_id}:{subject}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _safe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


@dataclass
class Store:
    """An open review database: session factories for reads and for serialised writes."""

    url: URL
    engine: Engine
    write_engine: Engine

    def __post_init__(self) -> None:
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._writer = sessionmaker(bind=self.write_engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Store({_safe_url(self.url)!r})"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short read-only session (a consistent snapshot for its duration)."""
        with self._reader() as session:  # closing ends the transaction and keeps loaded objects usable
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on any error."""
        try:
            with self._writer() as session, session.begin():
                yield session
        except OperationalError as error:
            if "locked" in str(error).lower():
                raise StoreError(
                    f"the review store {_safe_url(self.url)} stayed locked by other writers for more than "
                    f"{SQLITE_BUSY_TIMEOUT_S:.0f} s; retry, or move the store to PostgreSQL for many editors"
                ) from error
            raise

    def lock_subject(self, session: Session, version_id: int, subject: str) -> None:
        """Serialise edits of one subject until the transaction ends (SQLite already holds the write lock)."""
        if self.dialect == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(subject_lock_key(version_id, subject))))

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str | URL, *, migrate_schema: bool = True) -> Store:
    """Open (and by default create or upgrade) the review store at ``url``."""
    parsed = normalise_url(url)
    engine = make_engine(parsed)
    write_engine = engine.execution_options(**{WRITE_OPTION: True})
    try:
        if migrate_schema:
            migrate(engine, write_engine)
        elif current_revision(engine) != head_revision():
            raise StoreError(
                f"the review store {_safe_url(parsed)} is not at the latest schema: open it with migrations on"
            )
    except OperationalError as error:
        engine.dispose()
        raise StoreError(f"cannot open the review store {_safe_url(parsed)}: {error.orig}") from None
    return Store(parsed, engine, write_engine)
