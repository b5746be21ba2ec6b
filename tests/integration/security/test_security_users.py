"""Users and roles on every backend: create, find, duplicates, roles created on demand."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tradewind.errors import AlreadyExists, InvalidInput
from tradewind.security import users
from tradewind.security.passwords import verify_password
from tradewind.security.users import (
    ADMIN_ROLE,
    count_users,
    create_user,
    ensure_role,
    get_user,
)
from tradewind.storage.engine import transaction
from tradewind.storage.tables import RoleRow, UserRow

pytestmark = pytest.mark.db


def test_create_user_stores_a_hash_and_the_roles(session: Session) -> None:
    user = create_user(
        session,
        "ada",
        "pa55word",
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        roles=[ADMIN_ROLE, "Viewer", ADMIN_ROLE],
    )
    session.commit()
    session.expunge_all()

    found = get_user(session, "ada")
    assert found is not None and found.id == user.id
    assert (found.email, found.first_name, found.last_name) == (
        "ada@example.com",
        "Ada",
        "Lovelace",
    )
    assert found.active is True
    assert found.password_hash is not None and "pa55word" not in found.password_hash
    assert verify_password("pa55word", found.password_hash)
    assert sorted(role.name for role in found.roles) == [ADMIN_ROLE, "Viewer"]
    assert count_users(session) == 1


def test_a_user_without_password_cannot_log_in(session: Session) -> None:
    user = create_user(session, "robot", None, email="robot@example.com")

    assert user.password_hash is None
    assert verify_password("", user.password_hash) is False


def test_get_user_is_none_for_an_unknown_name(session: Session) -> None:
    assert get_user(session, "nobody") is None
    assert count_users(session) == 0


def test_a_taken_username_or_email_is_already_exists(session: Session) -> None:
    create_user(session, "ada", "pw", email="ada@example.com")

    with pytest.raises(AlreadyExists, match="Username `ada` already exists"):
        create_user(session, "ada", "pw", email="other@example.com")
    with pytest.raises(AlreadyExists, match="email `ada@example.com` is already taken"):
        create_user(session, "bob", "pw", email="ada@example.com")
    session.commit()  # the transaction is still usable after both refusals
    assert count_users(session) == 1


@pytest.mark.parametrize(
    ("username", "password", "email", "message"),
    [
        ("  ", "pw", "a@example.com", "username"),
        ("ada", "", "a@example.com", "password"),
        ("ada", "pw", "", "email"),
    ],
)
def test_blank_fields_are_invalid(
    session: Session, username: str, password: str, email: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        create_user(session, username, password, email=email)


def test_ensure_role_creates_once(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        created = ensure_role(session, "Op")
    with transaction(session_factory) as session:
        again = ensure_role(session, "Op")
        assert again.id == created.id
        assert session.scalar(sa.select(sa.func.count()).select_from(RoleRow)) == 1


def test_ensure_role_rejects_a_blank_name(session: Session) -> None:
    with pytest.raises(InvalidInput):
        ensure_role(session, " ")


def test_ensure_role_survives_a_concurrent_insert(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's row wins; ours rolls back to a savepoint, not the transaction."""
    lookups: list[str] = []
    real_get_role = users.get_role

    def first_lookup_misses(session: Session, name: str) -> RoleRow | None:
        # As if the other process inserted the role between our SELECT and INSERT.
        lookups.append(name)
        return None if len(lookups) == 1 else real_get_role(session, name)

    monkeypatch.setattr(users, "get_role", first_lookup_misses)
    with transaction(session_factory) as session:
        create_user(session, "ada", "pw", email="ada@example.com")
        session.execute(sa.insert(RoleRow).values(name="Op"))
        role = ensure_role(session, "Op")
        assert role.name == "Op"
    with transaction(session_factory) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(RoleRow)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(UserRow)) == 1
