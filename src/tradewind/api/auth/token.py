"""API tokens as credentials: ``Authorization: Bearer tw_...`` (``tradewind.api.auth.token``).

For scripts and service accounts, which should not hold a person's password: an
operator creates a token for a user with ``tradewind users create-token`` and the
script sends it in the ``Authorization`` header. The token grants what the user's roles
grant; revoking it, letting it expire or deactivating the user ends it on the next
request. See :mod:`tradewind.security.tokens` for how tokens are made and stored.

Enable it next to the others::

    [api]
    auth_backends = tradewind.api.auth.token,tradewind.api.auth.basic_auth
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from tradewind.api.auth.principal import Proof
from tradewind.config import Settings
from tradewind.security.tokens import hash_token, log_in, looks_like_token


def parse_bearer_header(value: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value, or None."""
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


class TokenAuth:
    """Recognises a live API token in ``Authorization: Bearer``."""

    name = "token"
    challenge: str | None = "Bearer"

    def __init__(self, settings: Settings) -> None:
        # Nothing to configure: a token's lifetime is set when it is created.
        del settings

    def credential_key(self, request: HTTPConnection) -> bytes | None:
        """The token's SHA-256 (what the database stores too), or None without one."""
        token = parse_bearer_header(request.headers.get("authorization"))
        if token is None or not looks_like_token(token):
            return None
        return bytes.fromhex(hash_token(token))

    def authenticate(self, request: HTTPConnection, session: Session) -> Proof | None:
        token = parse_bearer_header(request.headers.get("authorization"))
        if token is None:
            return None
        login = log_in(session, token, now=datetime.now(UTC))
        return Proof(login.user, login.expires_at) if login is not None else None
