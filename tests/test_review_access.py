"""Access control lives in plan_lib: every cross-scope read and write is refused, and leaves no trace.

Hierarchy of the synthetic run: VP1 > D1 > (M1: R1-R4, M2: R5-R8, SMB); VP1 > M3: R9-R10 (Enterprise).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import test_review_fixtures as fx
from test_review_fixtures import seed_store, session_for

from plan_lib.review.access import ReviewSession
from plan_lib.review.admin import export_overrides, reset_links, set_version_state
from plan_lib.review.errors import (
    AccessDeniedError,
    InvalidEditError,
    OverrideConflictError,
    PlanStateError,
    VersionNotOpenError,
)
from plan_lib.review.store import open_store

review, run_dir, store_url, pg_url = fx.review, fx.run_dir, fx.store_url, fx.pg_url  # fixtures from test_review_fixtures, used by name below


def _first(store, version: int, rep_id: str) -> tuple[str, int]:
    """The first account ``rep_id`` owns now, and its etag (read as RevOps)."""
    accounts = session_for(store, version, "ops1").accounts().set_index("account_id")
    account = accounts.index[accounts["rep_id"] == rep_id][0]
    return account, int(accounts.at[account, "etag"])


def test_a_manager_reads_only_their_subtree(review) -> None:
    store, version = review
    m1 = session_for(store, version, "M1")
    assert m1.scope_reps == {"R1", "R2", "R3", "R4"}
    assert set(m1.accounts()["rep_id"]) <= {"R1", "R2", "R3", "R4"}
    assert set(m1.books(0.05)["rep_id"]) == {"R1", "R2", "R3", "R4"}
    assert set(m1.quotas()["rep_id"]) == {"R1", "R2", "R3", "R4"}
    assert m1.assignable_reps() == ["R1", "R2", "R3"]  # R4 is leaving
    director = session_for(store, version, "D1")
    assert director.scope_reps == {"M1", "M2", *[f"R{i}" for i in range(1, 9)]}
    revops = session_for(store, version, "ops1")
    assert len(revops.accounts()) == 60


CROSS_SCOPE: dict[str, Callable[[ReviewSession, dict], object]] = {
    "move another team's account": lambda s, x: s.reassign(x["m2_account"], "R1", "grab", x["m2_etag"]),
    "move own account into another team": lambda s, x: s.reassign(x["m1_account"], "R5", "push", x["m1_etag"]),
    "move own account to a rep of another segment's team": lambda s, x: s.reassign(x["m1_account"], "R9", "push", x["m1_etag"]),
    "lock another team's account": lambda s, x: s.lock(x["m2_account"], "mine", x["m2_etag"]),
    "unlock another team's account": lambda s, x: s.unlock(x["m2_locked"], "free", x["m2_locked_etag"]),
    "set another team's quota": lambda s, x: s.set_quota("R5", 1.0, "cut", 0),
    "set own quota": lambda s, x: s.set_quota("M1", 1e9, "raise", 0),
    "set a director's quota": lambda s, x: s.set_quota("D1", 1.0, "cut", 0),
    "comment on another team's account": lambda s, x: s.comment("account", x["m2_account"], "hello"),
    "comment on another team's rep": lambda s, x: s.comment("rep", "R6", "hello"),
    "change the version state": lambda s, x: s.set_state("locked", "done", s.version.row_version),
}


@pytest.fixture
def targets(review) -> dict:
    store, version = review
    revops = session_for(store, version, "ops1")
    m1_account, m1_etag = _first(store, version, "R1")
    m2_account, m2_etag = _first(store, version, "R5")
    m2_locked, etag = _first(store, version, "R6")
    m2_locked_etag = revops.lock(m2_locked, "strategic", etag).etag
    return {"m1_account": m1_account, "m1_etag": m1_etag, "m2_account": m2_account, "m2_etag": m2_etag,
            "m2_locked": m2_locked, "m2_locked_etag": m2_locked_etag}


def test_cross_scope_writes_are_refused_and_leave_no_trace(review, targets) -> None:
    store, version = review
    m1 = session_for(store, version, "M1")
    before_overrides = export_overrides(store, version)
    before_history = len(session_for(store, version, "ops1").history())
    allowed = []
    for attempt, write in CROSS_SCOPE.items():
        try:
            write(m1, targets)
        except AccessDeniedError as refused:
            assert "M1" in str(refused) or "RevOps" in str(refused), f"{attempt}: message does not say who: {refused}"
        else:
            allowed.append(attempt)
    assert not allowed, f"cross-scope writes were allowed: {allowed}"
    assert len(CROSS_SCOPE) >= 10
    assert export_overrides(store, version).equals(before_overrides)
    assert len(session_for(store, version, "ops1").history()) == before_history


def test_cross_scope_reads_show_nothing_of_other_teams(review, targets) -> None:
    store, version = review
    revops = session_for(store, version, "ops1")
    revops.set_quota("R5", 5.0, "M2 team change", 0)
    revops.comment("rep", "R6", "M2 team remark")
    m1 = session_for(store, version, "M1")
    assert targets["m2_account"] not in set(m1.accounts()["account_id"])
    assert not set(m1.overrides()["subject_id"]) & {targets["m2_locked"], "R5"}
    assert m1.comments().empty
    assert not m1.history()["subject"].fillna("").str.contains("R5|R6|" + targets["m2_locked"]).any()


def test_a_rep_reads_their_book_but_cannot_edit(review) -> None:
    store, version = review
    rep = session_for(store, version, "R1")
    assert set(rep.accounts()["rep_id"]) == {"R1"}
    account = rep.accounts()["account_id"].iloc[0]
    with pytest.raises(AccessDeniedError, match="reps can read"):
        rep.lock(account, "mine", 0)
    rep.comment("account", account, "this one renews in March")  # comments are allowed


def test_scope_follows_moves_between_teams(review) -> None:
    store, version = review
    revops = session_for(store, version, "ops1")
    account, etag = _first(store, version, "R5")
    revops.reassign(account, "R1", "RevOps rebalance across teams", etag)
    m1, m2 = session_for(store, version, "M1"), session_for(store, version, "M2")
    assert account in set(m1.accounts()["account_id"])
    assert account not in set(m2.accounts()["account_id"])
    assert any(m2.history()["subject"] == f"account:{account}")  # M2 still sees it left their team


def test_directors_move_across_their_managers_and_revops_everywhere(review) -> None:
    store, version = review
    director = session_for(store, version, "D1")
    account, etag = _first(store, version, "R1")
    assert director.reassign(account, "R6", "cross-team, same director", etag).etag == etag + 1
    ent, etag = _first(store, version, "R9")
    with pytest.raises(AccessDeniedError):
        director.reassign(ent, "R10", "not my subtree", etag)
    session_for(store, version, "ops1").reassign(ent, "R10", "RevOps may", etag)


def test_invalid_edits_are_refused_with_a_reason(review) -> None:
    store, version = review
    m1 = session_for(store, version, "M1")
    account, etag = _first(store, version, "R1")
    with pytest.raises(InvalidEditError, match="reason"):
        m1.reassign(account, "R2", "  ", etag)
    with pytest.raises(InvalidEditError, match="leaving"):
        m1.reassign(account, "R4", "to the leaver", etag)
    with pytest.raises(InvalidEditError, match="already with"):
        m1.reassign(account, "R1", "no-op", etag)
    with pytest.raises(InvalidEditError, match=">= 0"):
        m1.set_quota("R1", -5, "negative", 0)
    draft_quota = m1.quotas().set_index("rep_id").at["R1", "draft_quota"]
    with pytest.raises(InvalidEditError, match="already"):
        m1.set_quota("R1", draft_quota, "no change", 0)
    with pytest.raises(InvalidEditError, match="not in this plan"):
        m1.reassign("NOPE", "R2", "ghost", 0)
    revops = session_for(store, version, "ops1")
    with pytest.raises(InvalidEditError, match="segment"):
        revops.reassign(account, "R9", "SMB account to an Enterprise rep", etag)
    locked = m1.lock(account, "renewal", etag)
    with pytest.raises(OverrideConflictError, match="unlock it first"):
        m1.reassign(account, "R2", "move a locked one", locked.etag)


def test_pilot_opens_a_version_to_named_managers_only(store_url: str, run_dir) -> None:
    store = open_store(store_url)
    try:
        version = seed_store(store, run_dir, state="pilot", pilot=("M1",))
        m1 = session_for(store, version, "M1")
        assert m1.can_edit()
        with pytest.raises(VersionNotOpenError, match="pilot"):
            session_for(store, version, "M2")
        session_for(store, version, "ops1")  # RevOps always
        set_version_state(store, version, "review", reason="pilot went fine")
        session_for(store, version, "M2")
        set_version_state(store, version, "locked", reason="review over")
        account = m1.accounts()["account_id"].iloc[0]
        with pytest.raises(PlanStateError, match="locked"):
            m1.lock(account, "too late", 0)  # the session was opened before the lock: checked at write time
    finally:
        store.dispose()


def test_drafts_are_for_revops_and_withdrawn_users_are_out(store_url: str, run_dir) -> None:
    store = open_store(store_url)
    try:
        version = seed_store(store, run_dir, state="draft")
        with pytest.raises(VersionNotOpenError, match="draft"):
            session_for(store, version, "M1")
        session_for(store, version, "ops1").set_state("review", "ready", 1)
        session_for(store, version, "M1")
        reset_links(store, "M1", active=False)
        with pytest.raises(AccessDeniedError, match="not an active user"):
            session_for(store, version, "M1")
    finally:
        store.dispose()
