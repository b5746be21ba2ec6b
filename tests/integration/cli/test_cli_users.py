"""``tradewind users``: create, list, delete, add-role, remove-role and API tokens,
on every backend, through the real command line (settings injected, no mocks)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from security_cli_support import invoke, isolated_environment, ok
from sqlalchemy.orm import Session

from tradewind.config import Settings
from tradewind.security.passwords import verify_password
from tradewind.security.tokens import hash_token
from tradewind.security.users import get_user
from tradewind.storage.tables import ApiTokenRow, LogRow

pytestmark = pytest.mark.db
__all__ = ["isolated_environment"]

ADA = ["-u", "ada", "-e", "ada@example.com", "-f", "Ada", "-l", "Lovelace", "-r", "Op"]


def test_create_list_and_delete(settings: Settings, session: Session) -> None:
    created = ok(settings, "users", "create", *ADA, "-p", "s3cret words")
    assert created.stdout == 'User "ada" created with role "Op"\n'
    assert "s3cret" not in created.output

    user = get_user(session, "ada")
    assert user is not None and user.password_hash is not None
    assert verify_password("s3cret words", user.password_hash)
    assert [role.name for role in user.roles] == ["Op"]

    listed = json.loads(ok(settings, "users", "list", "-o", "json").stdout)
    assert listed == [
        {
            "id": user.id,
            "username": "ada",
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "roles": "Op",
        }
    ]
    plain = ok(settings, "users", "list", "-o", "plain").stdout
    assert plain.splitlines()[0].split() == [
        "id",
        "username",
        "email",
        "first_name",
        "last_name",
        "roles",
    ]

    again = ok(settings, "users", "create", *ADA, "--no-password")
    assert "already exists" in again.stderr

    assert ok(settings, "users", "delete", "-u", "ada").stdout == 'User "ada" deleted\n'
    assert ok(settings, "users", "list", "-o", "json").stdout.strip() == "[]"
    session.rollback()  # end the read snapshot taken before the commands committed
    events = set(session.scalars(sa.select(LogRow.event)))
    assert {"cli_users_create", "cli_users_delete"} <= events
    assert not any("s3cret" in (extra or "") for extra in session.scalars(sa.select(LogRow.extra)))


def test_passwords_are_never_defaulted(settings: Settings, session: Session) -> None:
    refused = invoke(settings, "users", "create", *ADA)
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: No password given and stdin is not a terminal")
    both = invoke(settings, "users", "create", *ADA, "-p", "x", "--no-password")
    assert both.exit_code == 1 and both.stderr.startswith("Error: Give at most one of")
    assert get_user(session, "ada") is None

    ok(settings, "users", "create", *ADA, "--use-random-password")
    robot = ["-u", "robot", "-e", "robot@example.com", "-f", "R", "-l", "Bot", "-r", "User"]
    ok(settings, "users", "create", *robot, "--no-password")
    session.rollback()
    ada, bot = get_user(session, "ada"), get_user(session, "robot")
    assert ada is not None and ada.password_hash is not None
    assert bot is not None and bot.password_hash is None


def test_role_membership(settings: Settings, session: Session) -> None:
    ok(settings, "users", "create", *ADA, "--no-password")
    added = ok(settings, "users", "add-role", "-u", "ada", "-r", "Viewer")
    assert added.stdout == 'User "ada" added to role "Viewer"\n'
    twice = invoke(settings, "users", "add-role", "-u", "ada", "-r", "Viewer")
    assert twice.exit_code == 1
    assert twice.stderr == 'Error: User "ada" is already a member of role "Viewer"\n'
    ok(settings, "users", "remove-role", "-u", "ada", "-r", "Op")
    user = get_user(session, "ada")
    assert user is not None and [role.name for role in user.roles] == ["Viewer"]
    not_member = invoke(settings, "users", "remove-role", "-u", "ada", "-r", "Op")
    assert not_member.stderr == 'Error: User "ada" is not a member of role "Op"\n'

    by_email = ok(settings, "users", "delete", "-e", "ada@example.com")
    assert by_email.stdout == 'User "ada" deleted\n'
    unknown = invoke(settings, "users", "delete", "-e", "ada@example.com")
    assert unknown.stderr == "Error: No user has the email 'ada@example.com'\n"


def test_errors_are_one_line(settings: Settings) -> None:
    for args, message in (
        (
            ["users", "create", *ADA[:-1], "Wizard", "--no-password"],
            "Error: Unknown roles: 'Wizard'",
        ),
        (
            ["users", "delete", "-u", "nobody"],
            "Error: The User with username `nobody` was not found",
        ),
        (["users", "delete"], "Error: Give exactly one of --username and --email"),
        (["users", "add-role", "-u", "nobody", "-r", "Op"], "Error: The User with username"),
        (["users", "list-tokens", "nobody"], "Error: The User with username `nobody`"),
        (["users", "revoke-token", "--id", "999"], "Error: No API token with id 999"),
        (["users", "revoke-token", "--name", "x"], "Error: Give --id ID, or USERNAME --name NAME"),
    ):
        result = invoke(settings, *args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.startswith(message), (args, result.stderr)
        assert len(result.stderr.splitlines()) == 1
    ok(settings, "users", "create", *ADA, "--no-password")
    taken = invoke(settings, "users", "create", "-u", "bob", *ADA[2:], "--no-password")
    assert taken.stderr == "Error: The email `ada@example.com` is already taken\n"


def test_tokens_are_shown_once_and_stored_hashed(settings: Settings, session: Session) -> None:
    ok(settings, "users", "create", *ADA, "--no-password")
    created = ok(settings, "users", "create-token", "ada", "--name", "deploy", "--expires-in", "30")
    token = created.stdout.strip()
    assert token.startswith("tw_") and len(token) > 40
    assert "expires in 30 day(s)" in created.stderr

    row = session.scalar(sa.select(ApiTokenRow))
    assert row is not None and row.token_hash == hash_token(token) and token not in row.token_hash
    assert row.expires_at is not None

    duplicate = invoke(settings, "users", "create-token", "ada", "--name", "deploy")
    assert duplicate.stderr == "Error: User 'ada' already has a token named 'deploy'\n"
    ok(settings, "users", "create-token", "ada", "--name", "backup")

    listed = json.loads(ok(settings, "users", "list-tokens", "ada", "-o", "json").stdout)
    assert [(t["name"], t["revoked"]) for t in listed] == [("deploy", False), ("backup", False)]
    assert token not in json.dumps(listed) and row.token_hash not in json.dumps(listed)

    revoked = ok(settings, "users", "revoke-token", "ada", "--name", "deploy")
    assert revoked.stdout == f"Revoked token(s) {row.id}\n"
    ok(settings, "users", "revoke-token", "--id", str(listed[1]["id"]))
    listed = json.loads(ok(settings, "users", "list-tokens", "ada", "-o", "json").stdout)
    assert [t["revoked"] for t in listed] == [True, True]
    # The name is free again once its token is revoked.
    ok(settings, "users", "create-token", "ada", "--name", "deploy")
    session.rollback()
    extras = " ".join(e or "" for e in session.scalars(sa.select(LogRow.extra)))
    assert token not in extras and "cli_users_create_token" in set(
        session.scalars(sa.select(LogRow.event))
    )
