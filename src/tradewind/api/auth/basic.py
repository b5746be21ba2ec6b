"""HTTP Basic authentication against users' argon2id password hashes.

Checking an argon2id hash costs ~50 ms on purpose, which would make every API call of a
script slow. So a successful check is remembered for a short while, keyed by a keyed
hash (HMAC with a per-process random key) of the username, password and the stored
hash: the password itself is never kept, and changing the password (a new stored
hash) or deactivating the user takes effect on the next request. (Most requests do not
even get this far: the middleware reuses the principal proven for the same credentials
while the security generation holds, see :mod:`tradewind.api.auth.principal`; this
cache spares the argon2 check when the generation moved for an unrelated change.)

Failed attempts are throttled per username and per client address
(``[api] login_attempts_per_window`` per ``login_window_seconds``): past the limit,
credentials are refused without being checked until the window moves on, which turns
online guessing from thousands of tries a minute into a handful.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from tradewind.api.auth.principal import Proof
from tradewind.config import Settings
from tradewind.security.passwords import verify_password
from tradewind.security.users import get_user
from tradewind.storage.tables import UserRow

logger = logging.getLogger(__name__)

#: How long a verified (username, password, hash) triple is trusted without argon2.
VERIFIED_TTL_SECONDS = 60.0
#: Bound on remembered verifications, so a flood of logins cannot grow memory.
_MAX_VERIFIED = 4096


def parse_basic_header(value: str | None) -> tuple[str, str] | None:
    """``(username, password)`` of an ``Authorization: Basic ...`` value, or None."""
    if not value:
        return None
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    if not colon or not username:
        return None
    return username, password


def _count_login(session: Session, user_id: int, *, failed: bool) -> None:
    """Count a password check in the user's row (``login_count`` and ``last_login``, or
    ``failed_login_count``), best effort.

    The authentication transaction is a read; on SQLite, turning it into a write fails at
    once if another request wrote meanwhile. Losing that race must cost only this
    bookkeeping, never the request: so the update runs in a savepoint and is skipped when
    the database is busy.
    """
    if failed:
        values: dict[str, Any] = {"failed_login_count": UserRow.failed_login_count + 1}
    else:
        values = {"login_count": UserRow.login_count + 1, "last_login": datetime.now(UTC)}
    try:
        with session.begin_nested():
            session.execute(
                sa.update(UserRow)
                .where(UserRow.id == user_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
    except OperationalError as exc:
        logger.debug("Not counting a login of user %s: %s", user_id, exc)


class LoginThrottle:
    """Counts failed logins per key in a sliding window; thread-safe."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self._limit = max(1, limit)
        self._window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> bool:
        """Whether any of ``keys`` has used up its failures in the current window."""
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(key, now)) >= self._limit for key in keys)

    def record_failure(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def forget(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self._window:
            times.popleft()
        if not times and len(self._failures) > _MAX_VERIFIED:
            # Keep memory bounded under a flood of distinct keys: drop idle entries.
            for idle in [k for k, v in self._failures.items() if not v and k != key]:
                del self._failures[idle]
        return times


def _throttle_keys(request: HTTPConnection, username: str) -> tuple[str, str]:
    """What failed logins are counted against: the username and the client address."""
    address = request.client.host if request.client else "unknown"
    return f"user:{username}", f"address:{address}"


class BasicAuth:
    """``Authorization: Basic base64(username:password)``, as Airflow's basic_auth."""

    name = "basic_auth"
    challenge: str | None = "Basic"

    def __init__(self, settings: Settings) -> None:
        self._throttle = LoginThrottle(
            settings.api.login_attempts_per_window, settings.api.login_window_seconds
        )
        self._key = secrets.token_bytes(32)
        self._verified: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def credential_key(self, request: HTTPConnection) -> bytes | None:
        """A keyed hash of the username and password; None when absent or throttled."""
        credentials = parse_basic_header(request.headers.get("authorization"))
        if credentials is None:
            return None
        username, password = credentials
        if self._throttle.blocked(*_throttle_keys(request, username)):
            return None
        return self._digest(b"credentials", username, password)

    def authenticate(self, request: HTTPConnection, session: Session) -> Proof | None:
        credentials = parse_basic_header(request.headers.get("authorization"))
        if credentials is None:
            return None
        username, password = credentials
        keys = _throttle_keys(request, username)
        if self._throttle.blocked(*keys):
            return None
        user = get_user(session, username)
        password_hash = user.password_hash if user is not None else None
        if self._recently_verified(username, password, password_hash):
            return Proof(user) if user is not None and user.active else None
        if not verify_password(password, password_hash) or user is None or not user.active:
            self._throttle.record_failure(*keys)
            if user is not None:
                _count_login(session, user.id, failed=True)
            return None
        self._throttle.forget(f"user:{username}")
        self._remember(username, password, password_hash)
        _count_login(session, user.id, failed=False)
        return Proof(user)

    def _digest(self, purpose: bytes, *parts: str) -> bytes:
        message = b"\0".join((purpose, *(part.encode("utf-8") for part in parts)))
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def _fingerprint(self, username: str, password: str, password_hash: str | None) -> bytes:
        return self._digest(b"verified", username, password, password_hash or "")

    def _recently_verified(self, username: str, password: str, password_hash: str | None) -> bool:
        if password_hash is None:
            return False
        fingerprint = self._fingerprint(username, password, password_hash)
        with self._lock:
            expires = self._verified.get(fingerprint)
        return expires is not None and expires > time.monotonic()

    def _remember(self, username: str, password: str, password_hash: str | None) -> None:
        fingerprint = self._fingerprint(username, password, password_hash)
        now = time.monotonic()
        with self._lock:
            if len(self._verified) >= _MAX_VERIFIED:
                self._verified = {k: v for k, v in self._verified.items() if v > now}
                if len(self._verified) >= _MAX_VERIFIED:
                    self._verified.clear()
            self._verified[fingerprint] = now + VERIFIED_TTL_SECONDS
