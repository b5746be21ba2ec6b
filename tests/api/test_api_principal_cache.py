"""A proven principal is reused, yet every change to who may do what takes effect on the
very next request: through the API, through the CLI, by hand in the database, and in
another server process than the one that cached it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
import sqlalchemy as sa
from api_support import PASSWORD, LiveServer, make_client, serve
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.api.app import create_api_app
from tradewind.cli.main import cli
from tradewind.security.users import get_user
from tradewind.storage.engine import transaction

ClientAs = Callable[[str], httpx.Client]
Factory = sessionmaker[Session]


def tradewind(server: LiveServer, *args: str) -> str:
    """``tradewind <args>`` (the real CLI, in-process) on the server's database."""
    result = CliRunner().invoke(cli, list(args), obj=server.settings)
    assert result.exit_code == 0, result.output
    return result.stdout


def security_statements(engine: Engine, request: Callable[[], httpx.Response]) -> list[str]:
    """The statements ``request`` ran on the user, role and permission tables."""
    seen: list[str] = []

    def record(*args: object) -> None:
        statement = " ".join(str(args[2]).split())
        if any(f"FROM {table}" in statement for table in ("user ", '"user"', "user_role")):
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert request().status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return seen


def test_a_repeated_request_does_not_load_its_user_again(
    api_server: LiveServer, client: httpx.Client
) -> None:
    first = security_statements(api_server.engine, lambda: client.get("/pools"))
    again = security_statements(api_server.engine, lambda: client.get("/pools"))
    assert first and not again


def test_role_changes_through_the_api_apply_at_once(
    client: httpx.Client, client_as: ClientAs
) -> None:
    op = client_as("op")
    assert op.get("/pools").status_code == 200
    assert client.patch("/users/op", json={"roles": [{"name": "Viewer"}]}).status_code == 200
    assert op.get("/pools").status_code == 403
    assert client.patch("/users/op", json={"roles": [{"name": "Op"}]}).status_code == 200
    assert op.get("/pools").status_code == 200


def test_role_permission_changes_through_the_api_apply_at_once(
    client: httpx.Client, client_as: ClientAs
) -> None:
    viewer = client_as("viewer")
    assert viewer.get("/dags").status_code == 200
    changed = client.patch(
        "/roles/Viewer", json={"name": "Viewer", "actions": []}, params={"update_mask": "actions"}
    )
    assert changed.status_code == 200, changed.text
    assert viewer.get("/dags").status_code == 403
    assert client.delete("/roles/Viewer").status_code == 204
    assert viewer.get("/dags").status_code == 403


def test_deleting_or_renaming_a_user_through_the_api_ends_their_access(
    client: httpx.Client, client_as: ClientAs
) -> None:
    viewer, op = client_as("viewer"), client_as("op")
    assert viewer.get("/dags").status_code == 200
    assert op.get("/dags").status_code == 200
    assert client.delete("/users/viewer").status_code == 204
    assert viewer.get("/dags").status_code == 401
    assert client.patch("/users/op", json={"username": "operator"}).status_code == 200
    assert op.get("/dags").status_code == 401


def test_a_new_password_ends_the_old_one_at_once(
    client: httpx.Client, client_as: ClientAs, api_server: LiveServer
) -> None:
    user = client_as("user")
    assert user.get("/dags").status_code == 200
    changed = client.patch("/users/user", json={"password": "another password"})
    assert changed.status_code == 200, changed.text
    assert user.get("/dags").status_code == 401
    with httpx.Client(base_url=api_server.url, auth=("user", "another password")) as renewed:
        assert renewed.get("/dags").status_code == 200


def test_cli_changes_apply_at_once(api_server: LiveServer, client_as: ClientAs) -> None:
    op, viewer = client_as("op"), client_as("viewer")
    assert op.get("/pools").status_code == 200
    tradewind(api_server, "users", "remove-role", "-u", "op", "-r", "Op")
    assert op.get("/pools").status_code == 403
    tradewind(api_server, "users", "add-role", "-u", "op", "-r", "Op")
    assert op.get("/pools").status_code == 200

    assert viewer.get("/dags").status_code == 200
    tradewind(api_server, "users", "delete", "-u", "viewer")
    assert viewer.get("/dags").status_code == 401


def test_cli_token_revocation_applies_at_once(api_server: LiveServer) -> None:
    token = tradewind(api_server, "users", "create-token", "op", "--name", "ci").strip()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=api_server.url, headers=headers) as robot:
        assert robot.get("/pools").status_code == 200
        assert robot.get("/pools").status_code == 200  # now from the cache
        tradewind(api_server, "users", "revoke-token", "op", "--name", "ci")
        assert robot.get("/pools").status_code == 401


def test_deactivating_in_the_database_applies_at_once(
    client_as: ClientAs, session_factory: Factory
) -> None:
    user = client_as("user")
    assert user.get("/dags").status_code == 200
    with transaction(session_factory) as session:
        row = get_user(session, "user")
        assert row is not None
        row.active = False
    assert user.get("/dags").status_code == 401


@pytest.fixture
def second_server(api_server: LiveServer, engine: Engine) -> Iterator[LiveServer]:
    """Another server process on the same database (its own principal cache)."""
    with serve(create_api_app(api_server.settings, engine=engine)) as url:
        yield LiveServer(url, api_server.settings, engine)


def test_a_change_made_through_one_server_applies_in_another(
    api_server: LiveServer, second_server: LiveServer
) -> None:
    with (
        make_client(api_server, "admin") as admin,
        make_client(second_server, "op") as op_elsewhere,
    ):
        assert op_elsewhere.get("/pools").status_code == 200
        assert admin.patch("/users/op", json={"roles": [{"name": "User"}]}).status_code == 200
        assert op_elsewhere.get("/pools").status_code == 403


def test_wrong_passwords_are_not_remembered(api_server: LiveServer) -> None:
    with httpx.Client(base_url=api_server.url, auth=("op", PASSWORD + "x")) as wrong:
        assert wrong.get("/pools").status_code == 401
    with make_client(api_server, "op") as right:
        assert right.get("/pools").status_code == 200
    with httpx.Client(base_url=api_server.url, auth=("op", PASSWORD + "x")) as wrong:
        assert wrong.get("/pools").status_code == 401
