"""Optimistic concurrency: an edit carries the version ("etag") of what the user saw.

A subject is what one person edits at a time: an account (its reassign and
lock overrides) or a rep's quota. Its etag is the sum of the ``row_version`` of
its override rows (0 when it has none). Every change inserts a row (+1) or
updates one (SQLAlchemy bumps ``row_version`` by 1), so the etag strictly
increases and any change since the user's view is detected. The audit log
records the etag after each change, which lets a refusal say exactly which
changes the user missed and who made them.

The check and the write happen in one transaction under a per-subject lock
(``Store.lock_subject``; SQLite's ``BEGIN IMMEDIATE``), and the ORM's
``version_id_col`` refuses an UPDATE of a row changed underneath, so a stale
edit can never be written, whatever the interleaving.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from plan_lib.review.errors import Change, StaleEditError
from plan_lib.review.models import AuditEntry, Override, User

ACCOUNT_KINDS = ("reassign", "lock")
REP_KINDS = ("quota",)


def subject_key(subject_type: str, subject_id: str) -> str:
    """How subjects are named in the audit log and in messages: ``account:A1``, ``rep:R7``."""
    return f"{subject_type}:{subject_id}"


def kinds_of(subject_type: str) -> tuple[str, ...]:
    return ACCOUNT_KINDS if subject_type == "account" else REP_KINDS


def subject_rows(session: Session, version_id: int, subject_type: str, subject_id: str) -> dict[str, Override]:
    """The override rows of one subject, by kind (active or withdrawn)."""
    rows = session.scalars(
        select(Override).where(
            Override.version_id == version_id,
            Override.kind.in_(kinds_of(subject_type)),
            Override.subject_id == subject_id,
        )
    )
    return {row.kind: row for row in rows}


def etag_of(rows: dict[str, Override] | list[Override]) -> int:
    values = rows.values() if isinstance(rows, dict) else rows
    return sum(int(row.row_version or 0) for row in values)


def format_time(value: dt.datetime | None) -> str:
    if value is None:
        return "?"
    if value.tzinfo is None:  # SQLite returns naive datetimes; they were written in UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def missed_changes(session: Session, version_id: int, subject: str, seen: int) -> list[Change]:
    """Audit entries of ``subject`` newer than the etag the user saw, oldest first."""
    rows = session.execute(
        select(AuditEntry, User.name)
        .outerjoin(User, User.user_id == AuditEntry.actor_id)
        .where(AuditEntry.version_id == version_id, AuditEntry.subject == subject, AuditEntry.etag > seen)
        .order_by(AuditEntry.audit_id)
    )
    return [
        Change(
            action=entry.action,
            actor=f"{name} ({entry.actor_id})" if name else entry.actor_id,
            at=format_time(entry.at),
            summary=entry.summary,
        )
        for entry, name in rows
    ]


def ensure_fresh(session: Session, version_id: int, subject: str, seen: int, current: int) -> None:
    """Refuse the edit when the subject changed since the user's view."""
    if int(seen) != int(current):
        raise StaleEditError(subject, int(seen), int(current), missed_changes(session, version_id, subject, int(seen)))


@contextmanager
def refuse_races(read_session_factory, version_id: int, subject_type: str, subject_id: str, seen: int) -> Iterator[None]:
    """Turn a lost race at commit time (row updated or inserted underneath) into a clear StaleEditError.

    With the subject lock this should not happen; it is the safety net that
    keeps "no edit is ever silently lost" true even without the lock.
    """
    try:
        yield
    except (StaleDataError, IntegrityError) as error:
        if isinstance(error, IntegrityError) and "uq_overrides_subject" not in str(error) and "UNIQUE" not in str(error):
            raise
        subject = subject_key(subject_type, subject_id)
        with read_session_factory() as session:
            current = etag_of(subject_rows(session, version_id, subject_type, subject_id))
            raise StaleEditError(subject, seen, current, missed_changes(session, version_id, subject, seen)) from error
