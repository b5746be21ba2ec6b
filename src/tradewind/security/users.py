"""Users and roles: create a user, find one, make sure a role exists.

Functions take the session first and never commit: the caller (a CLI command, an API
request, ``tradewind standalone``) owns the transaction. Passwords go in as plain text
and are stored only as argon2id hashes (see :mod:`tradewind.security.passwords`).

Role names are Airflow's (``Admin``, ``Op``, ``User``, ``Viewer``, ``Public``); what each
may do is :mod:`tradewind.security.permissions`' business.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import AlreadyExists, InvalidInput
from tradewind.security.passwords import hash_password
from tradewind.security.permissions import ADMIN_ROLE
from tradewind.storage.repositories._writes import unique_write
from tradewind.storage.tables import RoleRow, UserRow

__all__ = ["ADMIN_ROLE", "count_users", "create_user", "ensure_role", "get_role", "get_user"]


def get_user(session: Session, username: str) -> UserRow | None:
    """The user called ``username`` (exact, case-sensitive match), or None."""
    return session.scalar(sa.select(UserRow).where(UserRow.username == username))


def count_users(session: Session) -> int:
    """How many users exist, active or not."""
    return session.scalar(sa.select(sa.func.count()).select_from(UserRow)) or 0


def get_role(session: Session, name: str) -> RoleRow | None:
    return session.scalar(sa.select(RoleRow).where(RoleRow.name == name))


def ensure_role(session: Session, name: str) -> RoleRow:
    """The role called ``name``, created (with no permissions) if it does not exist.

    Safe when another process creates the same role at the same moment: the losing
    insert is rolled back to a savepoint and the winner's row is returned.

    Raises:
        InvalidInput: ``name`` is blank.
    """
    if not name.strip():
        raise InvalidInput("A role name must not be blank")
    role = get_role(session, name)
    if role is not None:
        return role
    role = RoleRow(name=name)
    try:
        with unique_write(session, f"Role {name!r} already exists"):
            session.add(role)
    except AlreadyExists:
        found = get_role(session, name)
        if found is None:  # pragma: no cover - the winner's row vanished again
            raise
        return found
    return role


def create_user(
    session: Session,
    username: str,
    password: str | None,
    *,
    email: str,
    first_name: str = "",
    last_name: str = "",
    roles: Iterable[str] = (),
) -> UserRow:
    """Create an active user holding ``roles`` (each created if missing).

    Args:
        session: the caller's transaction; the row is flushed, not committed.
        username: unique login name.
        password: stored as an argon2id hash; ``None`` creates a user who cannot log in
            with a password (a service account using API tokens).
        email: unique, as in Airflow.
        roles: role names; unknown ones are created with no permissions.

    Raises:
        InvalidInput: blank username or email, or an empty password.
        AlreadyExists: the username or the email is taken.
    """
    if not username.strip():
        raise InvalidInput("A username must not be blank")
    if not email.strip():
        raise InvalidInput("An email must not be blank")
    if password is not None and not password:
        raise InvalidInput("A password must not be empty")
    if get_user(session, username) is not None:
        raise AlreadyExists(f"Username `{username}` already exists")
    if session.scalar(sa.select(UserRow.id).where(UserRow.email == email)) is not None:
        raise AlreadyExists(f"The email `{email}` is already taken")
    user = UserRow(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        active=True,
        password_hash=hash_password(password) if password is not None else None,
        roles=[ensure_role(session, name) for name in dict.fromkeys(roles)],
    )
    # The checks above give the precise message; this catches a concurrent insert.
    with unique_write(session, f"Username `{username}` or email `{email}` already exists"):
        session.add(user)
    return user
