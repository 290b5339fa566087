"""Signed invite links: who is opening the dashboard.

``tqp invite USER`` signs ``{user, token generation, expiry}`` with a secret
only the server knows (itsdangerous, HMAC-SHA1 over a URL-safe payload); the
dashboard verifies the signature, the expiry, and that the user is still
active with the same token generation (so RevOps can withdraw links).

The secret comes from ``TQP_SECRET``, or from the file named by
``TQP_SECRET_FILE``, or from ``~/.config/tqp/secret`` (created with mode 0600
on first use). It never lives in ``parameters/`` or in git: a secret file
inside a ``parameters`` folder, or readable by others, is refused.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from itsdangerous import BadSignature, URLSafeSerializer

from plan_lib.review.errors import (
    ExpiredTokenError,
    MissingTokenError,
    ReviewError,
    RevokedTokenError,
    SecretError,
    TamperedTokenError,
)
from plan_lib.review.models import User
from plan_lib.review.store import Store

SALT = "tqp-review-invite-v1"
QUERY_PARAMETER = "invite"
MIN_SECRET_LENGTH = 32
DEFAULT_SECRET_FILE = Path("~/.config/tqp/secret")


def secret_path() -> Path:
    return Path(os.environ.get("TQP_SECRET_FILE") or DEFAULT_SECRET_FILE).expanduser()


def _check_secret_location(path: Path) -> None:
    if "parameters" in path.resolve().parts:
        raise SecretError(
            f"the signing secret {path} is inside a 'parameters' folder, which is shared and committed: "
            "move it (e.g. to ~/.config/tqp/secret) and point TQP_SECRET_FILE at it"
        )


def load_secret(*, create: bool = True) -> str:
    """The signing secret (see module docstring for where it comes from)."""
    value = os.environ.get("TQP_SECRET")
    if value:
        if len(value) < MIN_SECRET_LENGTH:
            raise SecretError(f"TQP_SECRET is too short ({len(value)} characters): use at least {MIN_SECRET_LENGTH} random ones")
        return value
    path = secret_path()
    _check_secret_location(path)
    if not path.exists():
        if not create:
            raise SecretError(f"no signing secret: set TQP_SECRET or create {path}")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise SecretError(f"the signing secret {path} is readable by other users (mode {mode:o}): run `chmod 600 {path}`")
    value = path.read_text(encoding="utf-8").strip()
    if len(value) < MIN_SECRET_LENGTH:
        raise SecretError(f"the signing secret in {path} is too short: delete the file and a new one is made")
    return value


def _serializer(secret: str | None) -> URLSafeSerializer:
    return URLSafeSerializer(secret or load_secret(), salt=SALT)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Claims:
    user_id: str
    generation: int
    expires_at: dt.datetime


def make_token(user_id: str, *, generation: int = 1, days: float = 14, now: dt.datetime | None = None,
               secret: str | None = None) -> str:
    """A signed token for ``user_id`` valid for ``days``."""
    expires = _now(now) + dt.timedelta(days=days)
    return _serializer(secret).dumps({"u": user_id, "g": int(generation), "exp": int(expires.timestamp())})


def read_token(token: str | None, *, now: dt.datetime | None = None, secret: str | None = None) -> Claims:
    """Verify signature and expiry; raises Missing/Tampered/ExpiredTokenError."""
    if not token or not token.strip():
        raise MissingTokenError()
    try:
        payload = _serializer(secret).loads(token.strip())
        claims = Claims(str(payload["u"]), int(payload["g"]), dt.datetime.fromtimestamp(int(payload["exp"]), dt.UTC))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise TamperedTokenError() from None
    if _now(now) >= claims.expires_at:
        raise ExpiredTokenError(claims.expires_at.strftime("%Y-%m-%d %H:%M UTC"))
    return claims


def verify_invite(store: Store, token: str | None, *, now: dt.datetime | None = None, secret: str | None = None) -> str:
    """The user id a token stands for, once signature, expiry and the user's standing are checked."""
    claims = read_token(token, now=now, secret=secret)
    with store.read() as session:
        user = session.get(User, claims.user_id)
        if user is None or not user.active or user.token_generation != claims.generation:
            raise RevokedTokenError(claims.user_id)
    return claims.user_id


def invite_token(store: Store, user_id: str, *, days: float = 14, secret: str | None = None) -> str:
    """A token for an existing, active user (the current token generation)."""
    with store.read() as session:
        user = session.get(User, user_id)
        if user is None:
            raise ReviewError(
                f"'{user_id}' is not a user of the review store: `tqp serve` registers the managers "
                "of the reviewed plan (their rep_id in reps.csv); check the id, or serve the plan first"
            )
        if not user.active:
            raise RevokedTokenError(user_id)
        generation = user.token_generation
    return make_token(user_id, generation=generation, days=days, secret=secret)


def invite_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/?{urlencode({QUERY_PARAMETER: token})}"


def token_from_query_string(query_string: str | None) -> str:
    """The invite token in a request's query string (Voila passes it as ``QUERY_STRING``)."""
    values = parse_qs(query_string or "", keep_blank_values=True).get(QUERY_PARAMETER, [])
    return values[-1] if values else ""
