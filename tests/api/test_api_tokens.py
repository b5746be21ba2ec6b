"""The ``tradewind.api.auth.token`` backend: a service account's bearer token, from
``tradewind users create-token`` to revocation, through real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from api_support import LiveServer
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session, sessionmaker

from tradewind.cli.main import cli
from tradewind.security.tokens import create_token
from tradewind.security.users import get_user
from tradewind.storage.engine import transaction
from tradewind.storage.tables import ApiTokenRow, LogRow

ROBOT = ["-u", "robot", "-e", "robot@example.com", "-f", "Cloud", "-l", "Function"]


def tradewind(server: LiveServer, *args: str) -> Result:
    """``tradewind <args>`` on the server's database (settings injected: no environment)."""
    result = CliRunner().invoke(cli, list(args), obj=server.settings)
    assert result.exit_code == 0, result.output
    return result


def bearer(server: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})


def test_service_account_flow(
    api_server: LiveServer, session_factory: sessionmaker[Session]
) -> None:
    tradewind(api_server, "users", "create", *ROBOT, "-r", "Op", "--no-password")
    token = tradewind(api_server, "users", "create-token", "robot", "--name", "fn").stdout.strip()

    with bearer(api_server, token) as robot:
        created = robot.post("/pools", json={"name": "from-a-function", "slots": 2})
        assert created.status_code == 200, created.text
        assert robot.get("/pools/from-a-function").status_code == 200

        with transaction(session_factory) as session:
            owners = session.scalars(sa.select(LogRow.owner).where(LogRow.event == "api.post_pool"))
            assert list(owners) == ["robot"]
            row = session.scalar(sa.select(ApiTokenRow))
            assert row is not None and row.last_used_at is not None

        tradewind(api_server, "users", "revoke-token", "robot", "--name", "fn")
        refused = robot.get("/pools")
        assert refused.status_code == 401
        assert refused.json()["title"] == "Unauthorized"


def test_a_token_carries_its_users_roles(api_server: LiveServer) -> None:
    tradewind(api_server, "users", "create", *ROBOT, "-r", "User", "--no-password")
    token = tradewind(api_server, "users", "create-token", "robot", "--name", "ci").stdout.strip()
    with bearer(api_server, token) as robot:
        assert robot.get("/pools").status_code == 403  # User may not read pools
        tradewind(api_server, "users", "add-role", "-u", "robot", "-r", "Op")
        assert robot.get("/pools").status_code == 200


def test_expired_revoked_and_inactive_tokens_are_refused(
    api_server: LiveServer, session_factory: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    with transaction(session_factory) as session:
        expired = create_token(session, "op", "old", now=now, expires_in=timedelta(days=1))
        expired.row.expires_at = now - timedelta(seconds=1)
        live = create_token(session, "viewer", "live", now=now, expires_in=timedelta(days=1))
        dormant = create_token(session, "admin", "dormant", now=now)
        tokens = {"expired": expired.secret, "live": live.secret, "dormant": dormant.secret}
    with transaction(session_factory) as session:
        admin = get_user(session, "admin")
        assert admin is not None
        admin.active = False

    # The viewer is recognised (and refused the admin-only endpoint); the others are not.
    for name, expected in (("expired", 401), ("live", 403), ("dormant", 401)):
        with bearer(api_server, tokens[name]) as client:
            assert client.get("/users").status_code == expected, name


@pytest.mark.parametrize(
    "header",
    ["Bearer tw_not-a-real-token-at-all-0123456789", "Bearer", "Bearer x", "Token tw_x"],
)
def test_unknown_or_malformed_tokens_are_401(api_server: LiveServer, header: str) -> None:
    with httpx.Client(base_url=api_server.url, headers={"Authorization": header}) as client:
        assert client.get("/pools").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(
    api_server: LiveServer, session_factory: sessionmaker[Session]
) -> None:
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    with transaction(session_factory) as session:
        issued = create_token(session, "op", "busy", now=datetime.now(UTC))
        issued.row.last_used_at = long_ago
        token_id = issued.row.id
    with bearer(api_server, issued.secret) as client:
        assert client.get("/pools").status_code == 200
        with transaction(session_factory) as session:
            first = session.get(ApiTokenRow, token_id)
            assert first is not None and first.last_used_at is not None
            touched = first.last_used_at
        assert touched > long_ago
        assert client.get("/pools").status_code == 200
        with transaction(session_factory) as session:
            again = session.get(ApiTokenRow, token_id)
            assert again is not None and again.last_used_at == touched
