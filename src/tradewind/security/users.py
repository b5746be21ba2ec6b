"""Users: create, find, list, change and delete them; the roles they hold.

Functions take the session first and never commit: the caller (a CLI command, an API
request, ``tradewind standalone``) owns the transaction. Passwords go in as plain text
and are stored only as argon2id hashes (see :mod:`tradewind.security.passwords`); no
function here returns, logs or raises with a password in its message.

Role names are Airflow's (``Admin``, ``Op``, ``User``, ``Viewer``, ``Public``); what each
may do is :mod:`tradewind.security.permissions`' business.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from tradewind.security.passwords import hash_password
from tradewind.security.permissions import ADMIN_ROLE
from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate
from tradewind.storage.repositories._queries import order_clauses
from tradewind.storage.repositories._writes import unique_write
from tradewind.storage.tables import RoleRow, UserRow

__all__ = [
    "ADMIN_ROLE",
    "add_role",
    "count_users",
    "create_user",
    "delete_user",
    "ensure_role",
    "get_role",
    "get_user",
    "get_user_by_email",
    "list_users",
    "remove_role",
    "require_roles",
    "require_user",
    "update_user",
]

#: Fields :func:`update_user` may change (``password`` is hashed, ``roles`` are names).
UPDATABLE = ("first_name", "last_name", "username", "email", "roles", "password")
#: Columns :func:`list_users` may order by, and Airflow's other names for some of them.
ORDERABLE = ("id", "first_name", "last_name", "username", "email", "active")
_ORDER_ALIASES = {"user_id": "id", "user_name": "username", "is_active": "active"}


def get_user(session: Session, username: str) -> UserRow | None:
    """The user called ``username`` (exact, case-sensitive match), or None."""
    return session.scalar(sa.select(UserRow).where(UserRow.username == username))


def get_user_by_email(session: Session, email: str) -> UserRow | None:
    return session.scalar(sa.select(UserRow).where(UserRow.email == email))


def require_user(session: Session, username: str) -> UserRow:
    """Raises NotFound when there is no user ``username``."""
    user = get_user(session, username)
    if user is None:
        raise NotFound(f"The User with username `{username}` was not found")
    return user


def list_users(
    session: Session,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    order_by: str | None = None,
) -> Page[UserRow]:
    """Users ordered by ``order_by`` (``username``, ``-email``...; by id when None).

    Their roles come with them (one IN query for the page).

    Raises:
        InvalidInput: ``order_by`` names a column not in :data:`ORDERABLE`.
    """
    wanted = order_by or "id"
    descending = wanted.startswith("-")
    name = wanted.removeprefix("-")
    name = _ORDER_ALIASES.get(name, name)
    clauses = order_clauses(UserRow, ("-" if descending else "") + name, ORDERABLE)
    return paginate(session, sa.select(UserRow).order_by(*clauses), limit=limit, offset=offset)


def count_users(session: Session) -> int:
    """How many users exist, active or not."""
    return session.scalar(sa.select(sa.func.count()).select_from(UserRow)) or 0


def get_role(session: Session, name: str) -> RoleRow | None:
    return session.scalar(sa.select(RoleRow).where(RoleRow.name == name))


def require_roles(session: Session, names: Iterable[str]) -> list[RoleRow]:
    """The roles called ``names`` (duplicates dropped), all of which must exist.

    Raises:
        InvalidInput: some do not exist; the message names each, as Airflow's does.
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    found = {
        row.name: row for row in session.scalars(sa.select(RoleRow).where(RoleRow.name.in_(wanted)))
    }
    missing = [name for name in wanted if name not in found]
    if missing:
        raise InvalidInput(f"Unknown roles: {', '.join(repr(name) for name in missing)}")
    return [found[name] for name in wanted]


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
    if get_user_by_email(session, email) is not None:
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


def update_user(session: Session, username: str, changes: Mapping[str, Any]) -> UserRow:
    """Apply ``changes`` (fields of :data:`UPDATABLE`) to the user ``username``.

    ``roles`` (role names, all existing) replaces the user's roles; ``password`` is
    hashed. A new username or email must be free.

    Raises:
        NotFound: no such user.
        InvalidInput: an unknown field, a blank username or email, an empty password,
            a null value, or an unknown role.
        AlreadyExists: the new username or email is taken.
    """
    user = require_user(session, username)
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise InvalidInput(f"Cannot update {', '.join(unknown)}")
    nulls = sorted(name for name, value in changes.items() if value is None)
    if nulls:
        raise InvalidInput(f"{', '.join(nulls)} cannot be null")
    _check_identity(session, user, changes.get("username"), changes.get("email"))
    if "password" in changes:
        if not changes["password"]:
            raise InvalidInput("A password must not be empty")
        user.password_hash = hash_password(changes["password"])
    if "roles" in changes:
        user.roles = require_roles(session, changes["roles"])
    for name in ("first_name", "last_name", "username", "email"):
        if name in changes:
            setattr(user, name, changes[name])
    with unique_write(session, "The username or email is already taken"):
        session.flush()
    return user


def delete_user(session: Session, username: str) -> None:
    """Delete the user ``username``; their role memberships and API tokens go too.

    Raises:
        NotFound: no such user.
    """
    session.delete(require_user(session, username))
    session.flush()


def add_role(session: Session, username: str, role_name: str) -> UserRow:
    """Give ``username`` the existing role ``role_name``.

    Raises:
        NotFound: no such user.
        InvalidInput: no such role.
        Conflict: the user holds the role already.
    """
    user = require_user(session, username)
    (role,) = require_roles(session, [role_name])
    if role in user.roles:
        raise Conflict(f'User "{username}" is already a member of role "{role_name}"')
    user.roles.append(role)
    session.flush()
    return user


def remove_role(session: Session, username: str, role_name: str) -> UserRow:
    """Take the role ``role_name`` from ``username``.

    Raises:
        NotFound: no such user.
        InvalidInput: no such role.
        Conflict: the user does not hold the role.
    """
    user = require_user(session, username)
    (role,) = require_roles(session, [role_name])
    if role not in user.roles:
        raise Conflict(f'User "{username}" is not a member of role "{role_name}"')
    user.roles.remove(role)
    session.flush()
    return user


def _check_identity(
    session: Session, user: UserRow, username: str | None, email: str | None
) -> None:
    """Refuse a blank or taken new username or email, with Airflow's messages."""
    if username is not None and username != user.username:
        if not username.strip():
            raise InvalidInput("A username must not be blank")
        if get_user(session, username) is not None:
            raise AlreadyExists(f"The username `{username}` already exists")
    if email is not None and email != user.email:
        if not email.strip():
            raise InvalidInput("An email must not be blank")
        if get_user_by_email(session, email) is not None:
            raise AlreadyExists(f"The email `{email}` already exists")
