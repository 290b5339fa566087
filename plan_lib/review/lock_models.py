"""Tables of the fairness lock and of publishing (created by migration ``0002_fairness_locks``).

- ``plan_locks``: one row per locked plan version: which lock run folder holds
  the checked plan, the fairness outcome, the fingerprint of the overrides it
  was checked on, who locked it and when.
- ``fairness_waivers``: one row per failing criterion that was accepted anyway:
  who waived it, why, the value and the threshold it broke, who recorded it, when.
- ``publications``: one row per published plan version and its CRM export folder.

All three are permanent records: the database refuses UPDATE and DELETE on them
(triggers), and refuses any change to a locked version's overrides or state other
than ``locked -> published``, so a locked version is immutable whatever the client
(the dashboard, the command line or raw SQL). A change after lock is a new
version (``plan_lib.fairness.lock.new_version_after_lock``).

The triggers raise messages starting with a marker; the ``handle_error`` hook
below turns them into :class:`VersionLockedError` / :class:`AuditLogError`,
whose text tells the user what to do, instead of a raw driver error.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from plan_lib.review.errors import AuditLogError
from plan_lib.review.models import Base, utcnow

LOCKED_MARKER = "tqp-locked:"
PERMANENT_MARKER = "tqp-permanent:"


class PlanLock(Base):
    """The fairness lock of one plan version (at most one: a locked version never unlocks)."""

    __tablename__ = "plan_locks"
    __table_args__ = (UniqueConstraint("version_id"),)

    lock_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.version_id"))
    period: Mapped[str | None] = mapped_column(String(16))
    run_dir: Mapped[str] = mapped_column(Text, doc="lock run folder holding the refined plan that was checked")
    report_path: Mapped[str | None] = mapped_column(Text, doc="the HTML fairness report")
    overrides_fingerprint: Mapped[str] = mapped_column(String(64), doc="the overrides the plan was checked with")
    locked_by: Mapped[str] = mapped_column(String(64))
    locked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    passed: Mapped[int] = mapped_column(Integer)
    warned: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    waived: Mapped[int] = mapped_column(Integer)
    criteria: Mapped[dict[str, Any]] = mapped_column(doc="per criterion: value, status, worst group")


class FairnessWaiver(Base):
    """A failing criterion accepted at lock time: by whom, why, and what it broke."""

    __tablename__ = "fairness_waivers"
    __table_args__ = (
        UniqueConstraint("lock_id", "criterion"),
        CheckConstraint("length(reason) > 0", name="reason"),
        CheckConstraint("length(waived_by) > 0", name="waived_by"),
    )

    waiver_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lock_id: Mapped[int] = mapped_column(ForeignKey("plan_locks.lock_id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.version_id"), index=True)
    criterion: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float, doc="the fail threshold the value broke")
    waived_by: Mapped[str] = mapped_column(String(200), doc="the person who accepts the failure")
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64), doc="who ran the lock (login or user id)")
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Publication(Base):
    """A published plan version: its CRM export folder and what changed against the previous publication."""

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("version_id"),)

    publication_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.version_id"))
    lock_id: Mapped[int] = mapped_column(ForeignKey("plan_locks.lock_id"))
    period: Mapped[str | None] = mapped_column(String(16))
    run_dir: Mapped[str] = mapped_column(Text, doc="publish run folder (exports/ holds the CSV files)")
    previous_publication_id: Mapped[int | None] = mapped_column(ForeignKey("publications.publication_id"))
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    accounts: Mapped[int] = mapped_column(Integer)
    accounts_changed: Mapped[int] = mapped_column(Integer)
    quota_total: Mapped[float] = mapped_column(Float)
    quota_changes: Mapped[int] = mapped_column(Integer)


def _message(text: str, marker: str) -> str:
    return text.split(marker, 1)[1].splitlines()[0].strip().strip("'\"")


@event.listens_for(Engine, "handle_error")
def _translate_trigger_errors(context: Any) -> None:
    """Database refusals raised by the lock triggers become tqp errors with instructions."""
    text = str(context.original_exception)
    if LOCKED_MARKER in text:
        from plan_lib.fairness.errors import (
            VersionLockedError,  # the fairness package owns the message
        )

        raise VersionLockedError(_message(text, LOCKED_MARKER)) from context.original_exception
    if PERMANENT_MARKER in text:
        raise AuditLogError(_message(text, PERMANENT_MARKER)) from context.original_exception
