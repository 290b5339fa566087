"""Operator actions on the review store: users, plan versions, exports.

These are what RevOps runs from the command line (``tqp serve``, ``tqp
invite``, ``tqp run``), with direct access to the database, so they are not
scoped like a ``ReviewSession``; they still write to the audit log, under the
actor ``system:<login>`` unless told otherwise.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from plan_lib.review.errors import InvalidEditError, ReviewError
from plan_lib.review.models import (
    HIERARCHY_ROLES,
    ROLES,
    AuditEntry,
    Override,
    PilotMember,
    PlanVersion,
    User,
    utcnow,
)
from plan_lib.review.store import Store
from plan_lib.review.versions import check_transition

EXPORT_COLUMNS = ["override_id", "kind", "account_id", "rep_id", "from_rep_id", "quota", "author", "reason", "updated_at"]


def system_actor() -> str:
    try:
        login = getpass.getuser()
    except Exception:  # no login name in some containers
        login = "unknown"
    return f"system:{login}"


def _audit(actor: str, action: str, subject: str, summary: str, version_id: int | None = None, **detail: object) -> AuditEntry:
    return AuditEntry(at=utcnow(), actor_id=actor, version_id=version_id, action=action, subject=subject,
                      summary=summary, detail=detail or None)


@dataclass(frozen=True)
class SyncReport:
    added: list[str]
    updated: list[str]


def sync_users(store: Store, reps: pd.DataFrame, *, roles: Iterable[str] = HIERARCHY_ROLES, actor: str | None = None) -> SyncReport:
    """Create or update a user for every ``reps`` row whose role is in ``roles`` (managers and up by default).

    The user id is the rep_id, so a manager's scope is their subtree of the reps hierarchy.
    """
    actor = actor or system_actor()
    wanted = set(roles)
    frame = reps.reset_index() if "rep_id" not in reps.columns else reps
    added, updated = [], []
    with store.write() as session:
        for row in frame.itertuples(index=False):
            role = str(getattr(row, "role", "") or "rep")
            if role not in wanted:
                continue
            rep_id = str(row.rep_id)
            name = str(getattr(row, "name", "") or rep_id)
            email = getattr(row, "email", None)
            user = session.get(User, rep_id)
            if user is None:
                session.add(User(user_id=rep_id, name=name, email=email, role=role, rep_id=rep_id, active=True,
                                 token_generation=1, created_at=utcnow()))
                session.add(_audit(actor, "user.add", f"user:{rep_id}", f"added {role} {name} ({rep_id})"))
                added.append(rep_id)
            elif (user.name, user.email, user.role, user.rep_id) != (name, email, role, rep_id):
                user.name, user.email, user.role, user.rep_id = name, email, role, rep_id
                session.add(_audit(actor, "user.update", f"user:{rep_id}", f"updated {role} {name} ({rep_id})"))
                updated.append(rep_id)
    return SyncReport(added, updated)


def add_user(store: Store, user_id: str, name: str, role: str, *, email: str | None = None,
             rep_id: str | None = None, actor: str | None = None) -> None:
    """Add a RevOps, admin or other user (managers usually come from ``sync_users``)."""
    if role not in ROLES:
        raise InvalidEditError(f"role {role!r} is not one of {', '.join(ROLES)}")
    actor = actor or system_actor()
    with store.write() as session:
        user = session.get(User, user_id)
        if user is None:
            session.add(User(user_id=user_id, name=name, email=email, role=role, rep_id=rep_id, active=True,
                             token_generation=1, created_at=utcnow()))
        else:
            user.name, user.email, user.role, user.rep_id, user.active = name, email, role, rep_id, True
        session.add(_audit(actor, "user.add", f"user:{user_id}", f"{role} {name} ({user_id})"))


def reset_links(store: Store, user_id: str, *, active: bool = True, actor: str | None = None) -> int:
    """Withdraw every link of a user (and optionally deactivate them); returns the new token generation."""
    actor = actor or system_actor()
    with store.write() as session:
        user = session.get(User, user_id)
        if user is None:
            raise InvalidEditError(f"no user '{user_id}' in the review store")
        user.token_generation += 1
        user.active = active
        session.add(_audit(actor, "user.reset_links", f"user:{user_id}",
                           f"links of {user_id} withdrawn" + ("" if active else "; user deactivated")))
        return user.token_generation


def _check_pilot(session, members: list[str]) -> None:
    if not members:
        raise InvalidEditError("a pilot needs at least one manager: name them")
    unknown = [m for m in members if session.get(User, m) is None]
    if unknown:
        raise InvalidEditError(f"unknown users for the pilot: {', '.join(unknown)} (sync users from the reps first)")


def _period_of(run_dir: str | Path) -> str | None:
    """The plan period a run folder belongs to (from its manifest), so re-runs find its overrides."""
    manifest = Path(run_dir) / "manifest.json"
    if not manifest.exists():
        return None
    return json.loads(manifest.read_text(encoding="utf-8")).get("period")


def create_plan_version(store: Store, run_dir: str | Path, *, name: str | None = None, period: str | None = None,
                        state: str = "draft", pilot: Iterable[str] = (), parent_version_id: int | None = None,
                        actor: str | None = None) -> int:
    """Register a draft run folder as a new plan version (optionally opened straight to a pilot or review)."""
    actor = actor or system_actor()
    base = str(Path(run_dir).resolve())
    period = period or _period_of(run_dir)
    if state != "draft":
        check_transition("draft", state)
    members = sorted(set(pilot))
    with store.write() as session:
        if state == "pilot":
            _check_pilot(session, members)
        now = utcnow()
        version = PlanVersion(name=name or Path(base).name, period=period, state=state, base_run_dir=base,
                              parent_version_id=parent_version_id, created_by=actor, created_at=now, updated_at=now)
        session.add(version)
        session.flush()
        version.pilot_members = [PilotMember(version_id=version.version_id, user_id=m) for m in members]
        session.add(_audit(actor, "version.create", f"version:{version.version_id}",
                           f"plan version '{version.name}' created from {base} in state {state}",
                           version.version_id, pilot=members))
        return version.version_id


def find_version(store: Store, run_dir: str | Path) -> int | None:
    """The newest plan version based on ``run_dir`` (None if the run was never opened for review)."""
    base = str(Path(run_dir).resolve())
    with store.read() as session:
        return session.scalar(
            select(PlanVersion.version_id).where(PlanVersion.base_run_dir == base).order_by(PlanVersion.version_id.desc())
        )


def latest_version(store: Store, period: str | None = None) -> int | None:
    """The newest plan version (of a period), the one whose overrides the next run honours."""
    with store.read() as session:
        query = select(PlanVersion.version_id).order_by(PlanVersion.version_id.desc())
        if period:
            query = query.where(PlanVersion.period == period)
        return session.scalar(query)


def set_version_state(store: Store, version_id: int, state: str, *, pilot: Iterable[str] = (),
                      reason: str = "", actor: str | None = None) -> None:
    """Operator version of ``ReviewSession.set_state`` (same transitions, audited)."""
    actor = actor or system_actor()
    with store.write() as session:
        version = session.get(PlanVersion, version_id)
        if version is None:
            raise ReviewError(f"plan version {version_id} does not exist")
        check_transition(version.state, state)
        before = version.state
        if state == "pilot":
            members = sorted(set(pilot))
            _check_pilot(session, members)
            version.pilot_members = [PilotMember(version_id=version_id, user_id=m) for m in members]
        version.state, version.updated_at = state, utcnow()
        session.flush()
        entry = _audit(actor, "state", f"version:{version_id}", f"state {before} -> {state}", version_id,
                       before=before, after=state, pilot=sorted(version.pilot_user_ids))
        entry.reason, entry.etag = reason or None, version.row_version
        session.add(entry)


def version_users(store: Store, version_id: int, roles: Iterable[str] = HIERARCHY_ROLES) -> list[User]:
    """Active users a version is open to: its pilot group in state pilot, else everyone with ``roles``."""
    with store.read() as session:
        version = session.get(PlanVersion, version_id)
        if version is None:
            raise ReviewError(f"plan version {version_id} does not exist")
        query = select(User).where(User.active.is_(True), User.role.in_(tuple(roles))).order_by(User.user_id)
        if version.state == "pilot":
            query = query.where(User.user_id.in_(version.pilot_user_ids))
        return list(session.scalars(query))


def export_overrides(store: Store, version_id: int) -> pd.DataFrame:
    """The live overrides of a version, in the shape ``apply_overrides`` takes (for the next run)."""
    with store.read() as session:
        rows = session.execute(
            select(Override, User.name)
            .outerjoin(User, User.user_id == Override.updated_by)
            .where(Override.version_id == version_id, Override.active.is_(True))
            .order_by(Override.override_id)
        ).all()
    records = [
        {
            "override_id": o.override_id, "kind": o.kind, "account_id": o.account_id, "rep_id": o.rep_id,
            "from_rep_id": o.from_rep_id, "quota": o.quota, "author": f"{name} ({o.updated_by})" if name else o.updated_by,
            "reason": o.reason, "updated_at": o.updated_at,
        }
        for o, name in rows
    ]
    return pd.DataFrame(records, columns=EXPORT_COLUMNS)
