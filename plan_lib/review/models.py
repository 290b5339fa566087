"""The review store's tables (SQLAlchemy 2 ORM).

The schema itself is created and evolved by the Alembic revisions in
``plan_lib/review/migrations``; these classes describe it for queries, and a
test checks that both agree (no drift). Design choices:

- An override is one row per (plan version, kind, subject): edits update it in
  place and bump ``row_version`` (SQLAlchemy's ``version_id_col``, so a
  concurrent UPDATE of the same row fails instead of overwriting). Its history
  lives in the audit log, which is append-only.
- Times are stored in UTC; people see who/when/why on every override.
- Access rules do not live here (see ``access.py``): rows are plain facts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("rep", "manager", "director", "vp", "revops", "admin")
#: Roles that see and edit everything (no hierarchy scope).
GLOBAL_ROLES = ("revops", "admin")
#: Roles of the sales hierarchy that review their own subtree.
HIERARCHY_ROLES = ("manager", "director", "vp")
STATES = ("draft", "pilot", "review", "locked", "published")
KINDS = ("reassign", "lock", "quota")
SUBJECT_TYPES = ("rep", "account")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class User(Base):
    """A person who may open the dashboard; hierarchy users point at their ``reps`` row."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    rep_id: Mapped[str | None] = mapped_column(String(64), doc="node in the reps hierarchy (managers, directors)")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    token_generation: Mapped[int] = mapped_column(Integer, default=1, doc="bumped to withdraw every link of the user")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PlanVersion(Base):
    """A draft run's outputs plus the overrides made on it, moving through review states."""

    __tablename__ = "plan_versions"
    __table_args__ = (CheckConstraint(_in("state", STATES), name="state"),)

    version_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    period: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="draft")
    base_run_dir: Mapped[str] = mapped_column(Text)
    parent_version_id: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.version_id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)

    pilot_members: Mapped[list[PilotMember]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    __mapper_args__ = {"version_id_col": row_version}

    @property
    def pilot_user_ids(self) -> set[str]:
        return {member.user_id for member in self.pilot_members}


class PilotMember(Base):
    """A manager to whom a version in state ``pilot`` is open before everyone else."""

    __tablename__ = "pilot_members"

    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.version_id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), primary_key=True)


class Override(Base):
    """A human edit: reassign an account, lock an account to a rep, or set a rep's quota.

    ``subject_id`` is the account (reassign, lock) or the rep (quota). A withdrawn
    override stays as a row with ``active = False`` so its etag keeps increasing.
    """

    __tablename__ = "overrides"
    __table_args__ = (
        UniqueConstraint("version_id", "kind", "subject_id", name="uq_overrides_subject"),
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint("length(reason) > 0", name="reason"),
        CheckConstraint("quota IS NULL OR quota >= 0", name="quota"),
    )

    override_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.version_id"))
    kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str | None] = mapped_column(String(64))
    rep_id: Mapped[str | None] = mapped_column(String(64), doc="target rep (reassign), holder (lock), rep (quota)")
    from_rep_id: Mapped[str | None] = mapped_column(String(64), doc="owner in the base run")
    quota: Mapped[float | None] = mapped_column(Float)
    previous_quota: Mapped[float | None] = mapped_column(Float, doc="quota in the base run")
    reason: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.user_id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(ForeignKey("users.user_id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": row_version}


class Comment(Base):
    """A remark on a rep or an account, visible to everyone whose scope holds the subject."""

    __tablename__ = "comments"
    __table_args__ = (
        CheckConstraint(_in("subject_type", SUBJECT_TYPES), name="subject_type"),
        CheckConstraint("length(text) > 0", name="text"),
    )

    comment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.version_id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One line of history. Append-only: refused by code (``store.py``) and by database triggers."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_version_subject", "version_id", "subject"),)

    audit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[str] = mapped_column(String(64), doc="user id, or 'system:<login>' for the command line")
    version_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(80), doc="'account:<id>', 'rep:<id>', 'version:<id>', 'user:<id>'")
    etag: Mapped[int | None] = mapped_column(Integer, doc="the subject's version after this change")
    summary: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
