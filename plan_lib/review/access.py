"""``ReviewSession``: every read and write of the review, bound to one user.

Access is decided here, in the library, not in the dashboard: a page can
only call these methods, so a manager cannot reach another team's accounts by
crafting widget messages. The rules:

- RevOps and admin see and edit everything (and alone prepare drafts and move
  versions between states).
- A manager, director or VP acts within their subtree of the reps hierarchy of
  the version's draft run: the reps below them, and the accounts those reps own
  now (the draft's assignment with this version's reassignments applied, so an
  account RevOps moves into a team becomes that team's to review). Moves must
  stay inside the subtree; quota changes apply to reps below them, never to
  their own quota.
- A rep reads their own book and comments; edits are the managers'.
- A version in state ``pilot`` is open only to its pilot managers (plus
  RevOps/admin); a draft only to RevOps/admin; locked and published versions
  are read-only.

Every write is one transaction: scope check, freshness check against the etag
the user saw (see ``concurrency.py``), the change, and its audit entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from plan_lib.review.concurrency import (
    ACCOUNT_KINDS,
    ensure_fresh,
    etag_of,
    refuse_races,
    subject_key,
    subject_rows,
)
from plan_lib.review.errors import (
    AccessDeniedError,
    InvalidEditError,
    OverrideConflictError,
    PlanStateError,
    ReviewError,
    VersionNotOpenError,
)
from plan_lib.review.indicators import effective_books, segment_summary
from plan_lib.review.models import (
    GLOBAL_ROLES,
    AuditEntry,
    Comment,
    Override,
    PilotMember,
    PlanVersion,
    User,
    utcnow,
)
from plan_lib.review.plan import PlanBase, load_plan_base
from plan_lib.review.store import Store
from plan_lib.review.versions import EDITABLE, GLOBAL_EDITABLE, check_transition

OVERRIDE_COLUMNS = [
    "override_id", "kind", "subject_id", "account_id", "rep_id", "from_rep_id", "quota", "previous_quota", "reason",
    "active", "created_by", "created_at", "updated_by", "updated_at", "row_version",
]


@dataclass(frozen=True)
class Identity:
    user_id: str
    name: str
    role: str
    rep_id: str | None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.user_id})" if self.name and self.name != self.user_id else self.user_id


@dataclass(frozen=True)
class VersionInfo:
    version_id: int
    name: str
    state: str
    period: str | None
    base_run_dir: str
    pilot: frozenset[str]
    row_version: int


@dataclass(frozen=True)
class EditResult:
    """What an accepted edit did; ``etag`` is the subject's new version for the next edit."""

    subject: str
    etag: int
    summary: str
    override_id: int | None = None


def clean_reason(reason: str | None, what: str = "an override") -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidEditError(f"{what} needs a reason (why the model is wrong here): write one and try again")
    return text


def _version_info(version: PlanVersion) -> VersionInfo:
    return VersionInfo(
        version_id=version.version_id,
        name=version.name,
        state=version.state,
        period=version.period,
        base_run_dir=version.base_run_dir,
        pilot=frozenset(version.pilot_user_ids),
        row_version=version.row_version,
    )


class ReviewSession:
    """One user's view of one plan version; all reads are filtered, all writes checked."""

    def __init__(self, store: Store, user_id: str, version_id: int, *, base: PlanBase | None = None):
        self.store = store
        with store.read() as session:
            user = session.get(User, user_id)
            if user is None or not user.active:
                raise AccessDeniedError(f"'{user_id}' is not an active user of the review store: ask RevOps to invite you")
            version = session.get(PlanVersion, version_id)
            if version is None:
                raise ReviewError(f"plan version {version_id} does not exist in {store!r}")
            self.user = Identity(user.user_id, user.name, user.role, user.rep_id or user.user_id)
            self.version = _version_info(version)
        self._check_open(self.version)
        self.base = base or load_plan_base(self.version.base_run_dir)
        self._scope: frozenset[str] | None = self._compute_scope()

    # -- who may do what ---------------------------------------------------
    @property
    def is_global(self) -> bool:
        return self.user.role in GLOBAL_ROLES

    def _compute_scope(self) -> frozenset[str] | None:
        if self.is_global:
            return None
        node = self.user.rep_id or self.user.user_id
        if self.user.role == "rep":
            return frozenset({node})
        return self.base.descendants(node)

    @property
    def scope_reps(self) -> frozenset[str]:
        """The reps whose books this user reviews (everyone for RevOps/admin)."""
        return frozenset(self.base.reps.index) if self._scope is None else self._scope

    def rep_in_scope(self, rep_id: str | None) -> bool:
        return rep_id is not None and (self._scope is None or rep_id in self._scope)

    def _check_open(self, version: VersionInfo) -> None:
        if self.is_global:
            return
        if version.state == "draft":
            raise VersionNotOpenError(
                f"plan version '{version.name}' is still a draft that RevOps is preparing; "
                "you will get access when it is opened for review"
            )
        if version.state == "pilot" and self.user.user_id not in version.pilot:
            raise VersionNotOpenError(
                f"plan version '{version.name}' is open to a pilot group of managers first; "
                "you will get access when it is opened to everyone"
            )

    def can_edit(self, version: VersionInfo | None = None) -> bool:
        version = version or self.version
        if self.user.role == "rep":
            return False
        return version.state in (GLOBAL_EDITABLE if self.is_global else EDITABLE)

    def _read_version(self, session: Session) -> VersionInfo:
        """The version's current state in one query (pilot members only when they matter)."""
        row = session.execute(
            select(PlanVersion.name, PlanVersion.state, PlanVersion.period, PlanVersion.base_run_dir, PlanVersion.row_version)
            .where(PlanVersion.version_id == self.version.version_id)
        ).one()
        pilot: frozenset[str] = frozenset()
        if row.state == "pilot":
            pilot = frozenset(session.scalars(select(PilotMember.user_id).where(PilotMember.version_id == self.version.version_id)))
        return VersionInfo(self.version.version_id, row.name, row.state, row.period, row.base_run_dir, pilot, row.row_version)

    def _require_edit(self, session: Session) -> VersionInfo:
        """Re-read the version inside the write transaction: its state may have changed since the page loaded."""
        info = self._read_version(session)
        self._check_open(info)
        if self.user.role == "rep":
            raise AccessDeniedError("reps can read their book and comment; moves, locks and quotas are made by their manager")
        if not self.can_edit(info):
            raise PlanStateError(
                f"plan version '{info.name}' is {info.state}: it can no longer be edited"
                + ("; a change now needs a new plan version from RevOps" if info.state in ("locked", "published")
                   else "; RevOps opens it for review")
            )
        self.version = info
        return info

    def _require_global(self, what: str) -> None:
        if not self.is_global:
            raise AccessDeniedError(f"only RevOps or an admin can {what}")

    def _require_rep_scope(self, rep_id: str, what: str) -> None:
        if not self.base.has_rep(rep_id):
            raise InvalidEditError(f"rep '{rep_id}' is not in this plan's roster")
        if not self.rep_in_scope(rep_id):
            raise AccessDeniedError(f"{what}: rep '{rep_id}' is outside your team ({self.user.label})")

    def _require_account_scope(self, account_id: str, owner: str, what: str) -> None:
        if not self.rep_in_scope(owner):
            raise AccessDeniedError(f"{what}: account '{account_id}' is not in your team's books ({self.user.label})")

    # -- effective state ---------------------------------------------------
    def _override_frame(self, session: Session, kinds: Iterable[str] | None = None) -> pd.DataFrame:
        query = select(*[getattr(Override, c) for c in OVERRIDE_COLUMNS]).where(Override.version_id == self.version.version_id)
        if kinds is not None:
            query = query.where(Override.kind.in_(tuple(kinds)))
        rows = session.execute(query.order_by(Override.override_id)).all()
        return pd.DataFrame(rows, columns=OVERRIDE_COLUMNS)

    def _effective_accounts(self, overrides: pd.DataFrame) -> pd.DataFrame:
        accounts = self.base.accounts.copy()
        accounts["draft_rep_id"] = accounts["rep_id"]
        rows = overrides[overrides["kind"].isin(ACCOUNT_KINDS)]
        accounts["etag"] = rows.groupby("subject_id")["row_version"].sum().reindex(accounts.index).fillna(0).astype(int)
        live = rows[rows["active"].astype(bool)]
        moved = live[live["kind"] == "reassign"].set_index("subject_id")["rep_id"]
        locked = live[live["kind"] == "lock"].set_index("subject_id")["rep_id"]
        accounts["rep_id"] = moved.reindex(accounts.index).fillna(accounts["rep_id"])
        accounts["reassigned"] = accounts.index.isin(moved.index)
        accounts["locked_to"] = locked.reindex(accounts.index)
        return accounts

    def _effective_quotas(self, overrides: pd.DataFrame) -> pd.DataFrame:
        rows = overrides[overrides["kind"] == "quota"].set_index("subject_id")
        reps = self.base.quotas.index.union(rows.index)
        frame = pd.DataFrame(index=pd.Index(reps, name="rep_id"))
        frame["draft_quota"] = self.base.quotas.reindex(frame.index)
        live = rows[rows["active"].astype(bool)]
        frame["quota"] = live["quota"].reindex(frame.index).astype(float).fillna(frame["draft_quota"])
        frame["adjusted"] = frame.index.isin(live.index)
        frame["etag"] = rows["row_version"].reindex(frame.index).fillna(0).astype(int)
        return frame

    # -- reads ---------------------------------------------------------------
    def refresh_version(self) -> VersionInfo:
        with self.store.read() as session:
            info = self._read_version(session)
        self._check_open(info)
        self.version = info
        return info

    def reps(self) -> pd.DataFrame:
        """Reps in scope (the hierarchy rows below the user), with names and segments."""
        reps = self.base.reps
        return reps.loc[reps.index.isin(self.scope_reps)].reset_index()

    def assignable_reps(self) -> list[str]:
        """Reps in scope who can receive accounts (quota carriers who are not leaving)."""
        reps = self.base.reps
        ok = reps.index.isin(self.scope_reps) & (reps["role"].fillna("rep") == "rep") & (reps["status"].fillna("active") != "leaving")
        return sorted(reps.index[ok])

    def accounts(self) -> pd.DataFrame:
        """Accounts whose current owner is in scope, with draft owner, lock and etag."""
        with self.store.read() as session:
            overrides = self._override_frame(session, ACCOUNT_KINDS)
        accounts = self._effective_accounts(overrides)
        return accounts[accounts["rep_id"].isin(self.scope_reps)].reset_index()

    def quotas(self) -> pd.DataFrame:
        """Quotas of reps in scope: draft quota, current quota, whether adjusted, etag."""
        with self.store.read() as session:
            overrides = self._override_frame(session, ("quota",))
        quotas = self._effective_quotas(overrides)
        return quotas[quotas.index.isin(self.scope_reps)].reset_index()

    def account_state(self, account_id: str) -> tuple[str, str | None, int]:
        """One account's current owner, lock holder and etag (cheap re-read after a refusal)."""
        with self.store.read() as session:
            rows = subject_rows(session, self.version.version_id, "account", account_id)
        _, owner, lock = self._account_now(rows, account_id)
        self._require_account_scope(account_id, owner, "cannot read it")
        return owner, (lock.rep_id if lock is not None else None), etag_of(rows)

    def quota_state(self, rep_id: str) -> tuple[float | None, int]:
        """One rep's current quota and etag."""
        self._require_rep_scope(rep_id, "cannot read this quota")
        with self.store.read() as session:
            rows = subject_rows(session, self.version.version_id, "rep", rep_id)
        row = rows.get("quota")
        if row is not None and row.active:
            return row.quota, etag_of(rows)
        draft = self.base.quotas.get(rep_id)
        return (float(draft) if draft is not None and pd.notna(draft) else None), etag_of(rows)

    def books(self, band: float) -> pd.DataFrame:
        """Books in scope with balance and fairness indicators against company-wide segment means.

        Only aggregates (the means) come from outside the user's scope.
        """
        with self.store.read() as session:
            overrides = self._override_frame(session)
        accounts = self._effective_accounts(overrides)
        quotas = self._effective_quotas(overrides)["quota"]
        books = effective_books(accounts, self.base.reps, quotas, band)
        return books[books["rep_id"].isin(self.scope_reps)].reset_index(drop=True)

    def segments(self, band: float) -> pd.DataFrame:
        """Company-wide segment benchmarks (aggregates only): what each team is compared with."""
        with self.store.read() as session:
            overrides = self._override_frame(session)
        accounts = self._effective_accounts(overrides)
        books = effective_books(accounts, self.base.reps, self._effective_quotas(overrides)["quota"], band)
        segments = set(books.loc[books["rep_id"].isin(self.scope_reps), "segment"])
        summary = segment_summary(books, band)
        return summary[summary["segment"].isin(segments)].reset_index(drop=True)

    def overrides(self, active_only: bool = True) -> pd.DataFrame:
        """Overrides touching the user's scope (moves out of the team included), with author names."""
        with self.store.read() as session:
            frame = self._override_frame(session)
            names = dict(session.execute(select(User.user_id, User.name)).all())
        if active_only:
            frame = frame[frame["active"].astype(bool)]
        if self._scope is not None:
            owners = self.base.accounts["rep_id"]
            touches = (
                frame["rep_id"].isin(self._scope)
                | frame["from_rep_id"].isin(self._scope)
                | frame["account_id"].map(owners).isin(self._scope)
            )
            frame = frame[touches]
        frame = frame.assign(author=frame["updated_by"].map(lambda u: names.get(u) or u))
        return frame.reset_index(drop=True)

    def comments(self) -> pd.DataFrame:
        """Comments on reps and accounts in scope, newest first."""
        with self.store.read() as session:
            rows = session.execute(
                select(Comment, User.name)
                .outerjoin(User, User.user_id == Comment.author_id)
                .where(Comment.version_id == self.version.version_id)
                .order_by(Comment.comment_id.desc())
            ).all()
            overrides = self._override_frame(session, ACCOUNT_KINDS)
        owners = self._effective_accounts(overrides)["rep_id"]
        records = []
        for comment, name in rows:
            owner = owners.get(comment.subject_id) if comment.subject_type == "account" else comment.subject_id
            if self.rep_in_scope(owner) or (comment.subject_type == "rep" and comment.subject_id == self.user.rep_id):
                records.append(
                    {
                        "comment_id": comment.comment_id,
                        "subject_type": comment.subject_type,
                        "subject_id": comment.subject_id,
                        "text": comment.text,
                        "author": name or comment.author_id,
                        "created_at": comment.created_at,
                    }
                )
        return pd.DataFrame(records, columns=["comment_id", "subject_type", "subject_id", "text", "author", "created_at"])

    def history(self, since_audit_id: int = 0, limit: int = 500) -> pd.DataFrame:
        """Audit entries of this version the user may see (their scope and version-wide events), oldest first."""
        with self.store.read() as session:
            rows = session.execute(
                select(AuditEntry, User.name)
                .outerjoin(User, User.user_id == AuditEntry.actor_id)
                .where(AuditEntry.version_id == self.version.version_id, AuditEntry.audit_id > since_audit_id)
                .order_by(AuditEntry.audit_id)
            ).all()
        records = []
        for entry, name in rows:
            reps = set((entry.detail or {}).get("reps", []))
            visible = (
                self._scope is None
                or not entry.subject
                or entry.subject.startswith("version:")
                or any(self.rep_in_scope(r) for r in reps)
            )
            if visible:
                records.append(
                    {
                        "audit_id": entry.audit_id,
                        "at": entry.at,
                        "actor": name or entry.actor_id,
                        "actor_id": entry.actor_id,
                        "action": entry.action,
                        "subject": entry.subject,
                        "summary": entry.summary,
                        "reason": entry.reason,
                    }
                )
        frame = pd.DataFrame(records, columns=["audit_id", "at", "actor", "actor_id", "action", "subject", "summary", "reason"])
        return frame.tail(limit).reset_index(drop=True)

    # -- writes ----------------------------------------------------------------
    def _audit(self, session: Session, action: str, subject: str, etag: int | None, summary: str,
               reason: str | None, reps: Iterable[str | None], **detail: Any) -> None:
        session.add(
            AuditEntry(
                at=utcnow(),
                actor_id=self.user.user_id,
                version_id=self.version.version_id,
                action=action,
                subject=subject,
                etag=etag,
                summary=summary,
                reason=reason,
                detail={"reps": sorted({r for r in reps if r}), **detail},
            )
        )

    def _upsert(self, session: Session, rows: dict[str, Override], kind: str, subject_id: str, **values: Any) -> Override:
        now = utcnow()
        row = rows.get(kind)
        if row is None:
            row = Override(
                version_id=self.version.version_id, kind=kind, subject_id=subject_id, created_by=self.user.user_id,
                created_at=now, updated_by=self.user.user_id, updated_at=now, active=True, **values,
            )
            session.add(row)
        else:
            for name, value in values.items():
                setattr(row, name, value)
            row.active, row.updated_by, row.updated_at = True, self.user.user_id, now
        session.flush()
        rows[kind] = row
        return row

    def _withdraw(self, session: Session, row: Override, reason: str) -> None:
        row.active, row.reason, row.updated_by, row.updated_at = False, reason, self.user.user_id, utcnow()
        session.flush()

    def _edit(self, subject_type: str, subject_id: str, seen: int,
              change: Callable[[Session, dict[str, Override]], EditResult]) -> EditResult:
        with (
            refuse_races(self.store.read, self.version.version_id, subject_type, subject_id, seen),
            self.store.write() as session,
        ):
            self._require_edit(session)
            self.store.lock_subject(session, self.version.version_id, subject_key(subject_type, subject_id))
            return change(session, subject_rows(session, self.version.version_id, subject_type, subject_id))

    def _account_now(self, rows: dict[str, Override], account_id: str) -> tuple[str, str, Override | None]:
        draft_owner = self.base.owner(account_id)
        moved = rows.get("reassign")
        owner = moved.rep_id if moved is not None and moved.active and moved.rep_id else draft_owner
        lock = rows.get("lock")
        return draft_owner, owner, lock if lock is not None and lock.active else None

    def reassign(self, account_id: str, to_rep: str, reason: str, expected_etag: int) -> EditResult:
        """Move an account to another rep in scope (back to its draft owner withdraws the move)."""
        reason = clean_reason(reason, "a move")
        subject = subject_key("account", account_id)

        def change(session: Session, rows: dict[str, Override]) -> EditResult:
            draft_owner, owner, lock = self._account_now(rows, account_id)
            self._require_account_scope(account_id, owner, "cannot move it")
            ensure_fresh(session, self.version.version_id, subject, expected_etag, etag_of(rows))
            self._require_rep_scope(to_rep, f"cannot move '{account_id}' there")
            self._check_target(account_id, to_rep)
            if to_rep == owner:
                raise InvalidEditError(f"account '{account_id}' is already with {self.base.rep_name(to_rep)} ({to_rep})")
            if lock is not None:
                raise OverrideConflictError(
                    f"account '{account_id}' is locked to {lock.rep_id} by {lock.updated_by} ({lock.reason}); unlock it first"
                )
            if to_rep == draft_owner:
                row = rows["reassign"]
                self._withdraw(session, row, reason)
            else:
                row = self._upsert(session, rows, "reassign", account_id, account_id=account_id, rep_id=to_rep,
                                   from_rep_id=draft_owner, reason=reason)
            summary = f"moved {account_id} from {owner} to {to_rep}"
            etag = etag_of(rows)
            self._audit(session, "reassign", subject, etag, summary, reason, (owner, to_rep, draft_owner),
                        account_id=account_id, **{"from": owner, "to": to_rep})
            return EditResult(subject, etag, summary, row.override_id)

        return self._edit("account", account_id, expected_etag, change)

    def _check_target(self, account_id: str, to_rep: str) -> None:
        rep = self.base.reps.loc[to_rep]
        if (rep["role"] or "rep") != "rep":
            raise InvalidEditError(f"'{to_rep}' is a {rep['role']}, not a rep who carries a book: pick one of their reps")
        if rep["status"] == "leaving":
            raise InvalidEditError(f"rep '{to_rep}' is leaving: pick a rep who stays")
        account_segment, rep_segment = str(self.base.accounts.at[account_id, "segment"] or ""), str(rep["segment"] or "")
        if rep_segment and account_segment and rep_segment != account_segment:
            raise InvalidEditError(
                f"account '{account_id}' is {account_segment} and rep '{to_rep}' sells {rep_segment}: "
                "pick a rep of the account's segment (RevOps changes segments in the inputs)"
            )

    def lock(self, account_id: str, reason: str, expected_etag: int) -> EditResult:
        """Lock an account to its current owner: later runs must keep it there."""
        reason = clean_reason(reason, "a lock")
        subject = subject_key("account", account_id)

        def change(session: Session, rows: dict[str, Override]) -> EditResult:
            _, owner, lock = self._account_now(rows, account_id)
            self._require_account_scope(account_id, owner, "cannot lock it")
            ensure_fresh(session, self.version.version_id, subject, expected_etag, etag_of(rows))
            if lock is not None:
                raise InvalidEditError(f"account '{account_id}' is already locked to {lock.rep_id}")
            row = self._upsert(session, rows, "lock", account_id, account_id=account_id, rep_id=owner,
                               from_rep_id=self.base.owner(account_id), reason=reason)
            summary = f"locked {account_id} to {owner}"
            etag = etag_of(rows)
            self._audit(session, "lock", subject, etag, summary, reason, (owner,), account_id=account_id, to=owner)
            return EditResult(subject, etag, summary, row.override_id)

        return self._edit("account", account_id, expected_etag, change)

    def unlock(self, account_id: str, reason: str, expected_etag: int) -> EditResult:
        reason = clean_reason(reason, "an unlock")
        subject = subject_key("account", account_id)

        def change(session: Session, rows: dict[str, Override]) -> EditResult:
            _, owner, lock = self._account_now(rows, account_id)
            self._require_account_scope(account_id, owner, "cannot unlock it")
            ensure_fresh(session, self.version.version_id, subject, expected_etag, etag_of(rows))
            if lock is None:
                raise InvalidEditError(f"account '{account_id}' is not locked")
            self._withdraw(session, lock, reason)
            summary = f"unlocked {account_id} (was locked to {lock.rep_id})"
            etag = etag_of(rows)
            self._audit(session, "unlock", subject, etag, summary, reason, (owner,), account_id=account_id)
            return EditResult(subject, etag, summary, lock.override_id)

        return self._edit("account", account_id, expected_etag, change)

    def set_quota(self, rep_id: str, quota: float, reason: str, expected_etag: int) -> EditResult:
        """Adjust a rep's quota (setting it back to the draft's value withdraws the adjustment)."""
        reason = clean_reason(reason, "a quota change")
        subject = subject_key("rep", rep_id)
        try:
            value = float(quota)
        except (TypeError, ValueError):
            raise InvalidEditError(f"quota {quota!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise InvalidEditError(f"quota {quota!r} must be a finite amount >= 0")

        def change(session: Session, rows: dict[str, Override]) -> EditResult:
            self._require_rep_scope(rep_id, "cannot change this quota")
            ensure_fresh(session, self.version.version_id, subject, expected_etag, etag_of(rows))
            draft = self.base.quotas.get(rep_id)
            draft_value = float(draft) if draft is not None and pd.notna(draft) else None
            row = rows.get("quota")
            before = row.quota if row is not None and row.active else draft_value
            if before is not None and math.isclose(value, before):
                raise InvalidEditError(f"the quota of {rep_id} is already {value:,.0f}")
            if row is not None and draft_value is not None and math.isclose(value, draft_value):
                self._withdraw(session, row, reason)
            else:
                row = self._upsert(session, rows, "quota", rep_id, rep_id=rep_id, quota=value,
                                   previous_quota=draft_value, reason=reason)
            summary = f"quota of {rep_id}: {before if before is None else f'{before:,.0f}'} -> {value:,.0f}"
            etag = etag_of(rows)
            self._audit(session, "quota", subject, etag, summary, reason, (rep_id,), before=before, after=value)
            return EditResult(subject, etag, summary, row.override_id)

        return self._edit("rep", rep_id, expected_etag, change)

    def comment(self, subject_type: str, subject_id: str, text: str) -> int:
        """Comment on a rep or an account in scope (allowed in every open state)."""
        body = (text or "").strip()
        if not body:
            raise InvalidEditError("a comment needs some text")
        if subject_type not in ("rep", "account"):
            raise InvalidEditError(f"comments are on a 'rep' or an 'account', not {subject_type!r}")
        with self.store.write() as session:
            self._check_open(self._read_version(session))
            if subject_type == "rep":
                if subject_id != self.user.rep_id:
                    self._require_rep_scope(subject_id, "cannot comment")
                reps: tuple[str | None, ...] = (subject_id,)
            else:
                rows = subject_rows(session, self.version.version_id, "account", subject_id)
                _, owner, _ = self._account_now(rows, subject_id)
                self._require_account_scope(subject_id, owner, "cannot comment")
                reps = (owner,)
            comment = Comment(version_id=self.version.version_id, subject_type=subject_type, subject_id=subject_id,
                              text=body, author_id=self.user.user_id, created_at=utcnow())
            session.add(comment)
            session.flush()
            self._audit(session, "comment", subject_key(subject_type, subject_id), None,
                        f"comment on {subject_type} {subject_id}", None, reps, comment_id=comment.comment_id)
            return comment.comment_id

    def set_state(self, new_state: str, reason: str, expected_row_version: int, pilot: Iterable[str] | None = None) -> VersionInfo:
        """Move the version to a new state (RevOps/admin); ``pilot`` names the managers of a pilot."""
        self._require_global("change a plan version's state")
        reason = clean_reason(reason, "a state change")
        subject = f"version:{self.version.version_id}"
        with self.store.write() as session:
            version = session.get(PlanVersion, self.version.version_id)
            assert version is not None
            if version.row_version != expected_row_version:
                raise ReviewError(
                    f"plan version '{version.name}' changed since you loaded it (now {version.state}, "
                    f"version {version.row_version}): refresh and decide again"
                )
            check_transition(version.state, new_state)
            before = version.state
            if new_state == "pilot":
                members = sorted(set(pilot or ()))
                if not members:
                    raise InvalidEditError("a pilot needs at least one manager: name them")
                known = set(session.scalars(select(User.user_id).where(User.user_id.in_(members))))
                unknown = [m for m in members if m not in known]
                if unknown:
                    raise InvalidEditError(f"unknown users for the pilot: {', '.join(unknown)} (sync users from the reps first)")
                version.pilot_members = [PilotMember(version_id=version.version_id, user_id=m) for m in members]
            version.state, version.updated_at = new_state, utcnow()
            session.flush()
            self._audit(session, "state", subject, version.row_version, f"state {before} -> {new_state}", reason, (),
                        before=before, after=new_state, pilot=sorted(version.pilot_user_ids))
            info = _version_info(version)
        self.version = info
        return info
