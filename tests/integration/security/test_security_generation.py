"""The security generation on every backend: every change a login depends on moves it,
in the change's own transaction; logging in and using a token do not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tradewind.security import roles, tokens, users
from tradewind.security.generation import read_generation
from tradewind.security.permissions import READ, VARIABLE, sync_default_roles
from tradewind.storage.engine import transaction
from tradewind.storage.tables import UserRow, security_generation

pytestmark = pytest.mark.db

Factory = sessionmaker[Session]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def factory(session_factory: Factory) -> Factory:
    with transaction(session_factory) as session:
        sync_default_roles(session)
        users.create_user(session, "ada", "pa55word", email="ada@example.com", roles=["Viewer"])
        roles.create_role(session, "Auditors", [(READ, VARIABLE)])
    return session_factory


def moves(factory: Factory, change: Callable[[Session], object]) -> bool:
    """Whether ``change``, committed, moved the generation (read before and after)."""
    with transaction(factory) as session:
        before = read_generation(session)
    with transaction(factory) as session:
        change(session)
        inside = read_generation(session)
    with transaction(factory) as session:
        after = read_generation(session)
    assert inside == after, "the bump belongs to the change's own transaction"
    return before != after


def _user(session: Session) -> UserRow:
    user = users.get_user(session, "ada")
    assert user is not None
    return user


@pytest.mark.parametrize(
    "change",
    [
        lambda s: users.create_user(s, "bob", None, email="bob@example.com"),
        lambda s: users.update_user(s, "ada", {"password": "another one"}),
        lambda s: users.update_user(s, "ada", {"username": "ada2"}),
        lambda s: users.update_user(s, "ada", {"roles": ["Op"]}),
        lambda s: setattr(_user(s), "active", False),
        lambda s: users.add_role(s, "ada", "Auditors"),
        lambda s: users.remove_role(s, "ada", "Viewer"),
        lambda s: users.delete_user(s, "ada"),
        lambda s: roles.update_role(s, "Viewer", {"actions": [(READ, VARIABLE)]}),
        lambda s: roles.update_role(s, "Viewer", {"name": "Readers"}),
        lambda s: roles.delete_role(s, "Viewer"),
        lambda s: tokens.create_token(s, "ada", "ci", now=NOW),
    ],
    ids=[
        "create user",
        "password",
        "rename user",
        "replace roles",
        "deactivate",
        "add role",
        "remove role",
        "delete user",
        "role permissions",
        "rename role",
        "delete role",
        "create token",
    ],
)
def test_a_change_to_who_may_do_what_moves_the_generation(
    factory: Factory, change: Callable[[Session], object]
) -> None:
    assert moves(factory, change)


def test_revoking_or_expiring_a_token_moves_it_and_using_one_does_not(factory: Factory) -> None:
    with transaction(factory) as session:
        issued = tokens.create_token(session, "ada", "ci", now=NOW)
        token_id = issued.row.id

    assert not moves(factory, lambda s: tokens.authenticate_token(s, issued.secret, now=NOW))
    assert moves(factory, lambda s: tokens.revoke_token(s, token_id=token_id))
    with transaction(factory) as session:
        other = tokens.create_token(session, "ada", "other", now=NOW)

    def expire(session: Session) -> None:
        row = session.get(type(other.row), other.row.id)
        assert row is not None
        row.expires_at = NOW - timedelta(days=1)

    assert moves(factory, expire)


def test_bookkeeping_and_other_columns_leave_it_alone(factory: Factory) -> None:
    def count_login(session: Session) -> None:
        session.execute(
            sa.update(UserRow)
            .where(UserRow.username == "ada")
            .values(login_count=UserRow.login_count + 1, last_login=NOW)
        )

    assert not moves(factory, count_login)
    assert not moves(factory, lambda s: users.update_user(s, "ada", {"first_name": "Ada"}))
    assert not moves(factory, lambda s: sync_default_roles(s))


def test_a_missing_row_is_made_again_by_the_next_change(factory: Factory) -> None:
    with transaction(factory) as session:
        session.execute(sa.delete(security_generation))
    with transaction(factory) as session:
        assert read_generation(session) is None
        users.add_role(session, "ada", "Auditors")
    with transaction(factory) as session:
        assert read_generation(session) is not None
