"""Lock a plan version: only when every criterion passes, or with an explicit waiver per failing one.

The decision is a pure function (:func:`decide_lock`); the lock itself
(:func:`lock_version`) is one transaction in the review store that

1. refuses a version already locked (a locked version never unlocks; a change
   after lock is a new version: :func:`new_version_after_lock`);
2. checks the state transition (``review -> locked``);
3. refuses when the version's overrides changed since the lock run analysed
   them (their fingerprint differs): the check must be about the plan that is
   locked, not an older one;
4. refuses when a failing criterion has no waiver, or a waiver names a criterion
   that does not fail (a stale waiver must not end up on record);
5. writes the lock, one waiver row per failing criterion (who, why, value,
   threshold, who recorded it, when), the audit entries, and moves the state.

From then on the database itself refuses changes to the version's overrides and
state (see ``plan_lib.review.lock_models``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from plan_lib.fairness.criteria import FAIL, PASS, WARN
from plan_lib.fairness.errors import LockRefusedError, VersionLockedError, WaiverError
from plan_lib.review.admin import system_actor
from plan_lib.review.errors import ReviewError
from plan_lib.review.lock_models import FairnessWaiver, PlanLock
from plan_lib.review.models import AuditEntry, Override, PlanVersion, utcnow
from plan_lib.review.store import Store
from plan_lib.review.versions import check_transition
from plan_lib.rundir import RunFolder


class Waiver(BaseModel):
    """An explicit acceptance of one failing criterion: who accepts it and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    criterion: str
    by: str
    reason: str

    @field_validator("criterion", "by", "reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        text = (value or "").strip()
        if not text:
            raise ValueError("must not be empty")
        return text


def parse_waivers(raw: str | list[dict[str, str]] | None) -> list[Waiver]:
    """Waivers from the notebook parameter (a JSON list of {criterion, by, reason}) or a list of dicts."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return []
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as error:
        raise WaiverError(f"waivers are not valid JSON ({error.msg}): expected a list of {{criterion, by, reason}}") from None
    if not isinstance(items, list):
        raise WaiverError("waivers must be a list of {criterion, by, reason}")
    waivers = []
    for index, item in enumerate(items):
        try:
            waivers.append(Waiver.model_validate(item))
        except ValidationError as error:
            problem = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'waiver'}: {e['msg']}" for e in error.errors())
            raise WaiverError(f"waiver {index + 1} is incomplete ({problem}): each waiver names the criterion, who accepts it (by) and why (reason)") from None
    names = [w.criterion for w in waivers]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise WaiverError(f"one waiver per criterion; repeated: {', '.join(repeated)}")
    return waivers


@dataclass(frozen=True)
class LockDecision:
    """Whether the plan may be locked with these waivers, and why not."""

    allowed: bool
    failing: list[str]
    waived: list[str]
    missing: list[str]  # failing criteria without a waiver
    stray: list[str]  # waivers of criteria that do not fail
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("allowed", "failing", "waived", "missing", "stray", "message")}


def decide_lock(criteria: pd.DataFrame, waivers: list[Waiver], report_path: str | Path | None = None) -> LockDecision:
    """Lock only when no criterion fails, or each failing one is waived (and no waiver is stray)."""
    failing = criteria.loc[criteria["status"] == FAIL, "name"].tolist()
    named = {w.criterion for w in waivers}
    missing = [n for n in failing if n not in named]
    stray = sorted(named - set(failing))
    waived = [n for n in failing if n in named]
    allowed = not missing and not stray
    if allowed:
        message = "every criterion passes" if not failing else f"{len(failing)} failing criteria, each waived: {', '.join(waived)}"
    else:
        sentences = criteria.set_index("name")["sentence"]
        lines = []
        if missing:
            lines.append(f"{len(missing)} criteria fail without a waiver:")
            lines += [f"  - {name}: {sentences.get(name, '')}" for name in missing]
            example = missing[0]
            lines.append(f"Fix the plan in review, or waive each one explicitly, e.g. --waive {example} \"why it is acceptable\" --by \"who accepts it\".")
        if stray:
            lines.append(f"waivers for criteria that do not fail (remove them): {', '.join(stray)}")
        if report_path:
            lines.append(f"Fairness report: {report_path}")
        message = "\n".join(lines)
    return LockDecision(allowed, failing, waived, missing, stray, message)


def overrides_fingerprint(session: Session, version_id: int) -> str:
    """A digest of every override row of a version (ids and row versions): any edit changes it."""
    rows = session.execute(
        select(Override.override_id, Override.row_version, Override.active)
        .where(Override.version_id == version_id).order_by(Override.override_id)
    ).all()
    text = ";".join(f"{i}:{v}:{int(bool(a))}" for i, v, a in rows)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def store_fingerprint(store: Store, version_id: int) -> str:
    with store.read() as session:
        return overrides_fingerprint(session, version_id)


@dataclass(frozen=True)
class LockRecord:
    lock_id: int
    version_id: int
    period: str | None
    run_dir: str
    report_path: str | None
    locked_by: str
    locked_at: dt.datetime
    counts: dict[str, int]
    waivers: list[dict[str, Any]] = field(default_factory=list)


def _record(lock: PlanLock, waivers: list[FairnessWaiver]) -> LockRecord:
    return LockRecord(
        lock.lock_id, lock.version_id, lock.period, lock.run_dir, lock.report_path, lock.locked_by, lock.locked_at,
        {"passed": lock.passed, "warned": lock.warned, "failed": lock.failed, "waived": lock.waived},
        [
            {"criterion": w.criterion, "label": w.label, "value": w.value, "threshold": w.threshold, "by": w.waived_by,
             "reason": w.reason, "recorded_by": w.recorded_by, "recorded_at": w.recorded_at}
            for w in waivers
        ],
    )


def lock_record(store: Store, version_id: int) -> LockRecord | None:
    """The lock of a version with its waivers, or None if it was never locked."""
    with store.read() as session:
        lock = session.scalar(select(PlanLock).where(PlanLock.version_id == version_id))
        if lock is None:
            return None
        waivers = list(session.scalars(select(FairnessWaiver).where(FairnessWaiver.lock_id == lock.lock_id).order_by(FairnessWaiver.waiver_id)))
        return _record(lock, waivers)


@dataclass(frozen=True)
class LockRun:
    """What a lock run folder says about the plan it checked."""

    run: RunFolder
    criteria: pd.DataFrame
    version_id: int | None
    fingerprint: str
    period: str | None
    report_path: str | None


def read_lock_run(run_dir: str | Path) -> LockRun:
    run = RunFolder(Path(run_dir).resolve())
    if not run.manifest_path.exists() or run.manifest().get("status") != "complete":
        raise LockRefusedError(f"{run.path} is not a complete lock run: run `tqp lock` and use the folder it prints")
    refine = run.read_report("refine")
    report = run.path / "fairness_report.html"
    return LockRun(run, run.read_table("fairness_criteria"), refine.get("version_id"), refine.get("overrides_fingerprint", ""),
                   run.manifest().get("period"), str(report) if report.exists() else None)


def lock_version(store: Store, version_id: int, run_dir: str | Path, waivers: list[Waiver], *, actor: str | None = None) -> LockRecord:
    """Lock ``version_id`` on the plan checked in the lock run ``run_dir`` (see the module docstring)."""
    actor = actor or system_actor()
    checked = read_lock_run(run_dir)
    if checked.version_id != version_id:
        raise LockRefusedError(f"{checked.run.path} checked plan version {checked.version_id}, not {version_id}: lock the version it checked, or rerun `tqp lock`")
    with store.write() as session:
        # SQLite: BEGIN IMMEDIATE already excludes every other writer. PostgreSQL: the row lock makes override
        # writes in flight finish first (their trigger holds the row FOR SHARE) and later ones wait and see the lock.
        version = session.get(PlanVersion, version_id, with_for_update=True)
        if version is None:
            raise ReviewError(f"plan version {version_id} does not exist in {store!r}")
        existing = session.scalar(select(PlanLock).where(PlanLock.version_id == version_id))
        if existing is not None:
            raise VersionLockedError(
                f"plan version {version_id} was already locked on {existing.locked_at:%Y-%m-%d %H:%M} by {existing.locked_by}; "
                "a change after lock is a new version (plan_lib.fairness.lock.new_version_after_lock)"
            )
        check_transition(version.state, "locked")
        current = overrides_fingerprint(session, version_id)
        if current != checked.fingerprint:
            raise LockRefusedError(
                f"plan version {version_id} was edited after the fairness check in {checked.run.path}: "
                "rerun `tqp lock` so the check covers the plan as it is now"
            )
        decision = decide_lock(checked.criteria, waivers, checked.report_path)
        if not decision.allowed:
            raise LockRefusedError(f"plan version {version_id} cannot be locked: {decision.message}")
        counts = checked.criteria["status"].value_counts()
        before = version.state
        version.state, version.updated_at = "locked", utcnow()
        session.flush()  # the state moves before the lock row exists (the triggers guard locked versions)
        now = utcnow()
        lock = PlanLock(
            version_id=version_id, period=checked.period or version.period, run_dir=str(checked.run.path),
            report_path=checked.report_path, overrides_fingerprint=current, locked_by=actor, locked_at=now,
            passed=int(counts.get(PASS, 0)), warned=int(counts.get(WARN, 0)), failed=int(counts.get(FAIL, 0)),
            waived=len(decision.waived),
            criteria={r.name: {"value": None if pd.isna(r.value) else float(r.value), "status": r.status, "worst_group": r.worst_group}
                      for r in checked.criteria.itertuples(index=False)},
        )
        session.add(lock)
        session.flush()
        by_name = checked.criteria.set_index("name")
        rows = []
        for waiver in waivers:
            row = by_name.loc[waiver.criterion]
            rows.append(FairnessWaiver(
                lock_id=lock.lock_id, version_id=version_id, criterion=waiver.criterion, label=str(row["label"]),
                value=None if pd.isna(row["value"]) else float(row["value"]),
                threshold=None if pd.isna(row["fail"]) else float(row["fail"]),
                waived_by=waiver.by, reason=waiver.reason, recorded_by=actor, recorded_at=now,
            ))
            session.add(AuditEntry(at=now, actor_id=actor, version_id=version_id, action="fairness.waiver",
                                   subject=f"version:{version_id}", summary=f"waived {waiver.criterion} ({row['sentence']}), accepted by {waiver.by}",
                                   reason=waiver.reason, detail={"criterion": waiver.criterion, "by": waiver.by}))
        session.add_all(rows)
        summary = f"state {before} -> locked after the fairness check: {lock.passed} pass, {lock.warned} warn, {lock.failed} fail ({lock.waived} waived)"
        session.add(AuditEntry(at=now, actor_id=actor, version_id=version_id, action="state", subject=f"version:{version_id}",
                               etag=version.row_version, summary=summary, reason="fairness lock",
                               detail={"before": before, "after": "locked", "lock_run": str(checked.run.path)}))
        session.flush()
        return _record(lock, rows)


def new_version_after_lock(store: Store, version_id: int, *, actor: str | None = None, name: str | None = None,
                           state: str = "review") -> int:
    """A new plan version continuing a locked one: same draft run, its live overrides copied; the locked one stays as it was."""
    actor = actor or system_actor()
    if state not in ("draft", "review"):
        raise ReviewError(f"a new version starts as draft or review, not {state!r}")
    with store.write() as session:
        old = session.get(PlanVersion, version_id)
        if old is None:
            raise ReviewError(f"plan version {version_id} does not exist in {store!r}")
        if session.scalar(select(PlanLock.lock_id).where(PlanLock.version_id == version_id)) is None:
            raise ReviewError(f"plan version {version_id} is not locked: edit it in review instead of starting a new version")
        now = utcnow()
        new = PlanVersion(name=name or f"{old.name} (after lock)", period=old.period, state=state, base_run_dir=old.base_run_dir,
                          parent_version_id=version_id, created_by=actor, created_at=now, updated_at=now)
        session.add(new)
        session.flush()
        live = session.scalars(select(Override).where(Override.version_id == version_id, Override.active.is_(True)).order_by(Override.override_id))
        copied = 0
        for row in live:
            session.add(Override(
                version_id=new.version_id, kind=row.kind, subject_id=row.subject_id, account_id=row.account_id, rep_id=row.rep_id,
                from_rep_id=row.from_rep_id, quota=row.quota, previous_quota=row.previous_quota, reason=row.reason, active=True,
                created_by=row.created_by, created_at=row.created_at, updated_by=row.updated_by, updated_at=row.updated_at,
            ))
            copied += 1
        session.add(AuditEntry(at=now, actor_id=actor, version_id=new.version_id, action="version.create", subject=f"version:{new.version_id}",
                               summary=f"plan version '{new.name}' created after lock of version {version_id}, {copied} overrides carried over",
                               detail={"parent": version_id, "overrides": copied}))
        return new.version_id
