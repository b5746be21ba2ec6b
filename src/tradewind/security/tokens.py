"""API tokens: long random secrets a service account sends as ``Authorization: Bearer``.

A token is ``tw_`` followed by 43 url-safe characters (256 random bits): the prefix
lets secret scanners and people recognise one. It is shown once, when created; only its
SHA-256 digest is stored (:class:`~tradewind.storage.tables.ApiTokenRow`). A fast,
unsalted hash is enough here, unlike for passwords: nobody can guess a 256-bit secret,
so there is nothing for a slow hash to protect, and looking a token up by its digest
means no comparison ever runs on the secret itself.

A token authenticates while it is unrevoked, unexpired and its user is active; it
grants whatever the user's roles grant at that moment. ``last_used_at`` is refreshed at
most once a minute (:data:`LAST_USED_RESOLUTION`), so a busy script does not turn every
read into a write.

Functions take the session first and never commit.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tradewind.errors import InvalidInput, NotFound
from tradewind.security.users import require_user
from tradewind.storage.tables import ApiTokenRow, UserRow

logger = logging.getLogger(__name__)

#: What every token starts with.
TOKEN_PREFIX = "tw_"
#: Random bytes in a token (256 bits).
TOKEN_BYTES = 32
#: How stale ``last_used_at`` may get before a use writes it again.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: ``secret`` is the only copy of it anywhere."""

    row: ApiTokenRow
    secret: str


def hash_token(secret: str) -> str:
    """The stored form of a token: the SHA-256 hex digest of its text."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_token(value: str) -> bool:
    """Whether ``value`` has a token's shape (cheap check before any database work)."""
    return value.startswith(TOKEN_PREFIX) and 16 < len(value) <= 256


def create_token(
    session: Session,
    username: str,
    name: str,
    *,
    now: datetime,
    expires_in: timedelta | None = None,
) -> IssuedToken:
    """Create a token for ``username`` called ``name``.

    Args:
        session: the caller's transaction (flushed, not committed).
        username: an existing user (active or not; an inactive one's tokens do nothing).
        name: what the token is for (``ci-deploy``); unique among the user's live
            (unrevoked, unexpired) tokens.
        now: the current time.
        expires_in: lifetime; None means the token lasts until revoked.

    Raises:
        NotFound: no such user.
        InvalidInput: a blank name, a non-positive lifetime, or a name the user already
            gave one of their unrevoked tokens.
    """
    user = require_user(session, username)
    if not name.strip():
        raise InvalidInput("A token name must not be blank")
    if expires_in is not None and expires_in <= timedelta(0):
        raise InvalidInput("A token's lifetime must be positive")
    if any(_alive(row, now) for row in _unrevoked_named(session, user.id, name)):
        raise InvalidInput(f"User {username!r} already has a token named {name!r}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiTokenRow(
        user_id=user.id,
        name=name,
        token_hash=hash_token(secret),
        created_at=now,
        expires_at=now + expires_in if expires_in is not None else None,
        revoked=False,
    )
    session.add(row)
    session.flush()
    return IssuedToken(row, secret)


@dataclass(frozen=True)
class TokenLogin:
    """Who a live token proved, and until when the token lives (None: until revoked)."""

    user: UserRow
    expires_at: datetime | None


def authenticate_token(session: Session, secret: str, *, now: datetime) -> UserRow | None:
    """The active user a live token ``secret`` belongs to, or None (see :func:`log_in`)."""
    login = log_in(session, secret, now=now)
    return login.user if login is not None else None


def log_in(session: Session, secret: str, *, now: datetime) -> TokenLogin | None:
    """The active user a live token ``secret`` belongs to and the token's expiry, or None.

    Refreshes the token's ``last_used_at`` when older than :data:`LAST_USED_RESOLUTION`;
    that write is best effort (a busy SQLite database skips it rather than failing the
    request).
    """
    if not looks_like_token(secret):
        return None
    row = session.scalar(sa.select(ApiTokenRow).where(ApiTokenRow.token_hash == hash_token(secret)))
    if row is None or not _alive(row, now):
        return None
    user = session.get(UserRow, row.user_id)
    if user is None or not user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        _touch(session, row, now)
    return TokenLogin(user, row.expires_at)


def list_tokens(session: Session, username: str) -> list[ApiTokenRow]:
    """The tokens of ``username``, oldest first (revoked and expired ones included).

    Raises:
        NotFound: no such user.
    """
    user = require_user(session, username)
    query = sa.select(ApiTokenRow).where(ApiTokenRow.user_id == user.id).order_by(ApiTokenRow.id)
    return list(session.scalars(query))


def revoke_token(
    session: Session,
    *,
    token_id: int | None = None,
    username: str | None = None,
    name: str | None = None,
) -> list[ApiTokenRow]:
    """Revoke a token by id, or a user's unrevoked tokens called ``name``; they stop
    working at once. Revoking a revoked token by id changes nothing.

    Raises:
        InvalidInput: neither an id nor a username and a name were given.
        NotFound: no such token (by id), or no unrevoked one of that name.
    """
    if token_id is not None:
        row = session.get(ApiTokenRow, token_id)
        if row is None:
            raise NotFound(f"No API token with id {token_id}")
        rows = [row]
    elif username is not None and name is not None:
        user = require_user(session, username)
        rows = _unrevoked_named(session, user.id, name)
        if not rows:
            raise NotFound(f"User {username!r} has no unrevoked token named {name!r}")
    else:
        raise InvalidInput("Name the token to revoke by its id, or by username and name")
    for row in rows:
        row.revoked = True
    session.flush()
    return rows


def _alive(row: ApiTokenRow, now: datetime) -> bool:
    return not row.revoked and (row.expires_at is None or row.expires_at > now)


def _unrevoked_named(session: Session, user_id: int, name: str) -> list[ApiTokenRow]:
    query = sa.select(ApiTokenRow).where(
        ApiTokenRow.user_id == user_id, ApiTokenRow.name == name, ApiTokenRow.revoked.is_(False)
    )
    return list(session.scalars(query))


def _touch(session: Session, row: ApiTokenRow, now: datetime) -> None:
    # Guarded by the old value, so concurrent requests write it once; in a savepoint,
    # so losing SQLite's write lock to another writer costs only this bookkeeping.
    stale = now - LAST_USED_RESOLUTION
    try:
        with session.begin_nested():
            session.execute(
                sa.update(ApiTokenRow)
                .where(
                    ApiTokenRow.id == row.id,
                    sa.or_(ApiTokenRow.last_used_at.is_(None), ApiTokenRow.last_used_at <= stale),
                )
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
    except OperationalError as exc:
        logger.debug("Not recording the use of API token %s: %s", row.id, exc)
