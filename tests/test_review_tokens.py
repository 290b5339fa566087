"""Invite tokens: signed, expiring, withdrawable; secrets never in parameters/ or readable by others."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
import test_review_fixtures as fx
from test_review_fixtures import seed_store

from plan_lib.review.admin import reset_links
from plan_lib.review.errors import (
    ExpiredTokenError,
    MissingTokenError,
    ReviewError,
    RevokedTokenError,
    SecretError,
    TamperedTokenError,
)
from plan_lib.review.store import open_store
from plan_lib.review.tokens import (
    invite_token,
    invite_url,
    load_secret,
    make_token,
    read_token,
    token_from_query_string,
    verify_invite,
)

run_dir = fx.run_dir  # fixtures from test_review_fixtures, used by name below


SECRET = "s" * 48
NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TQP_SECRET", SECRET)
    monkeypatch.setenv("TQP_SECRET_FILE", str(tmp_path / "unused"))


def test_a_token_names_its_user_until_it_expires() -> None:
    token = make_token("M1", generation=3, days=2, now=NOW)
    claims = read_token(token, now=NOW + dt.timedelta(days=1))
    assert (claims.user_id, claims.generation) == ("M1", 3)
    with pytest.raises(ExpiredTokenError, match="2026-12-05"):
        read_token(token, now=NOW + dt.timedelta(days=2, seconds=1))


@pytest.mark.parametrize("token", [None, "", "   "])
def test_a_missing_token_is_refused(token) -> None:
    with pytest.raises(MissingTokenError, match="personal link"):
        read_token(token)


def test_a_tampered_token_is_refused() -> None:
    token = make_token("M1", now=NOW)
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    with pytest.raises(TamperedTokenError):
        read_token(flipped, now=NOW)
    # the payload of another user's token with this signature is refused too
    other = make_token("M2", now=NOW)
    with pytest.raises(TamperedTokenError):
        read_token(other.split(".")[0] + "." + token.split(".")[1], now=NOW)
    # and so is a token signed with another secret
    with pytest.raises(TamperedTokenError):
        read_token(make_token("M1", now=NOW, secret="x" * 48), now=NOW)
    with pytest.raises(TamperedTokenError):
        read_token("not-a-token", now=NOW)


def test_links_are_withdrawn_by_resetting_the_user(tmp_path: Path, run_dir) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'review.sqlite'}")
    try:
        seed_store(store, run_dir)
        token = invite_token(store, "M1")
        assert verify_invite(store, token) == "M1"
        reset_links(store, "M1")
        with pytest.raises(RevokedTokenError, match="withdrawn"):
            verify_invite(store, token)
        assert verify_invite(store, invite_token(store, "M1")) == "M1"  # a new link works
        with pytest.raises(ReviewError, match="not a user of the review store") as unknown:
            invite_token(store, "nobody")
        assert not isinstance(unknown.value, RevokedTokenError)  # never told it was "withdrawn"
    finally:
        store.dispose()


def test_the_token_travels_in_the_query_string() -> None:
    token = make_token("M1", now=NOW)
    url = invite_url("http://localhost:8866/", token)
    assert url.startswith("http://localhost:8866/?invite=")
    assert token_from_query_string(url.split("?", 1)[1]) == token
    assert token_from_query_string("theme=dark&invite=" + token) == token
    assert token_from_query_string("") == "" and token_from_query_string(None) == ""


def test_the_secret_file_is_created_private_and_reused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TQP_SECRET")
    path = tmp_path / "config" / "tqp" / "secret"
    monkeypatch.setenv("TQP_SECRET_FILE", str(path))
    first = load_secret()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret() == first and len(first) >= 32
    os.chmod(path, 0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        load_secret()


def test_a_secret_inside_parameters_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TQP_SECRET")
    monkeypatch.setenv("TQP_SECRET_FILE", str(tmp_path / "parameters" / "secret"))
    with pytest.raises(SecretError, match="parameters"):
        load_secret()
    assert not (tmp_path / "parameters").exists()


def test_a_short_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TQP_SECRET", "short")
    with pytest.raises(SecretError, match="too short"):
        load_secret()
