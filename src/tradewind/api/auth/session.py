"""The UI's login session as an API credential (Airflow's ``backend.session``).

A session is a signed cookie (``session``), made at login (``POST /auth/login``, see
:mod:`tradewind.api.routes.login`) by :func:`issue_session`:
``{"uid": user id, "pwd": a digest of the user's password hash, "csrf": random token}``,
signed with itsdangerous under a key derived from ``[webserver] secret_key`` (or, when
that is empty, from the Fernet key, which every process of a deployment shares). It
expires after ``[webserver] session_lifetime_minutes``; changing the password changes
the digest, which ends every session of that user.

Cookies travel with every request a browser makes, including ones forged by another
site, so a request that changes something (POST, PATCH, PUT, DELETE) must also carry the
session's CSRF token in the ``X-CSRF-Token`` header; without it the session does not
authenticate the request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from tradewind.api.auth.principal import Proof
from tradewind.config import Settings
from tradewind.storage.tables import UserRow

COOKIE_NAME = "session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_serializer(settings: Settings) -> URLSafeTimedSerializer:
    """The signer of session cookies for this deployment."""
    secret = (
        settings.webserver.secret_key
        or hmac.new(
            settings.core.fernet_key.encode(), b"tradewind session key", hashlib.sha256
        ).hexdigest()
    )
    return URLSafeTimedSerializer(secret, salt="tradewind-session")


def password_digest(user: UserRow) -> str:
    """A short digest of the user's stored hash: a new password ends old sessions."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def issue_session(settings: Settings, user: UserRow) -> tuple[str, str]:
    """A new session cookie value for ``user`` and its CSRF token."""
    csrf = secrets.token_urlsafe(24)
    value = session_serializer(settings).dumps(
        {"uid": user.id, "pwd": password_digest(user), "csrf": csrf}
    )
    return value, csrf


class SessionAuth:
    """Recognises a valid, unexpired session cookie (plus CSRF token on writes)."""

    name = "session"
    challenge: str | None = None

    def __init__(self, settings: Settings) -> None:
        self._serializer = session_serializer(settings)
        self._max_age = settings.webserver.session_lifetime_minutes * 60

    def credential_key(self, request: HTTPConnection) -> bytes | None:
        """A digest of a valid, unexpired cookie (with its CSRF token on writes), or None."""
        if self._cookie_data(request) is None:
            return None
        return hashlib.sha256(request.cookies[COOKIE_NAME].encode()).digest()

    def authenticate(self, request: HTTPConnection, session: Session) -> Proof | None:
        data = self._cookie_data(request)
        if data is None:
            return None
        user = session.get(UserRow, data["uid"])
        if user is None or not user.active:
            return None
        if not hmac.compare_digest(password_digest(user), str(data.get("pwd", ""))):
            return None
        return Proof(user)

    def _cookie_data(self, request: HTTPConnection) -> dict[str, Any] | None:
        """The session cookie's content if it is signed here, unexpired and (for a
        request that changes something) matched by the CSRF header; else None."""
        cookie = request.cookies.get(COOKIE_NAME)
        if not cookie:
            return None
        try:
            data: Any = self._serializer.loads(cookie, max_age=self._max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("uid"), int):
            return None
        if request.scope.get("method", "GET") not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), str(data.get("csrf", "")).encode()):
                return None
        return data
