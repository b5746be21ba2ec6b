"""Role x route: each default role is refused (403) exactly where it lacks a permission.

Every route of the app (derived from ``ROUTERS``, so the matrix grows as routes land) is
called as each test user (``admin``, ``op``, ``user``, ``viewer``, ``public``, holding the
role of that name) with realistic path values (the seeded DAG, its run and task...) and,
for writes, an empty JSON object as body: the point is the gate, not the handler, which
may answer anything else (200, 400, 404...). The expected refusals come from the
permissions each route declares (``requires(action, resource)``) and Airflow's default
role definitions; a separate check holds the policy itself: Viewer and Public change
nothing. With the default ``deny_all`` backend every guarded route answers 401.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from api_support import PASSWORD, USERS, LiveServer, serve
from spec_support import GuardedRoute, World, routes_of, seed_world, with_file_token
from sqlalchemy.orm import Session, sessionmaker

from tradewind.api.app import create_api_app
from tradewind.config import Settings
from tradewind.security.permissions import ALL_PERMISSIONS, DEFAULT_ROLES

#: Users and roles the matrix names in paths: none that exist, so that no request (a
#: DELETE or PATCH by a role allowed to) removes or changes a user the matrix logs in as.
THROWAWAY_PATH_VALUES = {"username": "no-such-user", "role_name": "No Such Role"}
#: POSTs that only read (batch queries): the only non-GET routes a Viewer may call.
READ_ONLY_POSTS = {"get_dag_runs_batch", "get_task_instances_batch"}


@pytest.fixture
def api_settings(api_settings: Settings) -> Settings:
    # Handlers that refuse with 403 whatever the role, unless enabled (as in Airflow).
    return api_settings.replace("webserver", expose_config=True).replace(
        "core", test_connection="Enabled"
    )


@pytest.fixture
def world(
    api_server: LiveServer,
    session_factory: sessionmaker[Session],
    add_dag_file: Callable[[str, str], None],
    client: httpx.Client,
) -> World:
    world = with_file_token(seed_world(session_factory, add_dag_file), client)
    return world.with_values(**THROWAWAY_PATH_VALUES)


@pytest.fixture
def guarded() -> list[GuardedRoute]:
    routes = [route for route in routes_of() if route.permissions]
    assert routes, "no guarded route"
    return routes


def test_declared_permissions_are_known_ones(guarded: list[GuardedRoute]) -> None:
    unknown = [
        f"{route.name}: {permission}"
        for route in guarded
        for permission in route.permissions
        if permission not in ALL_PERMISSIONS
    ]
    assert unknown == []


def test_each_role_is_refused_exactly_where_it_lacks_a_permission(
    api_server: LiveServer, world: World, guarded: list[GuardedRoute]
) -> None:
    wrong = []
    for username, role in USERS.items():
        held = set(DEFAULT_ROLES[role])
        with _client(api_server.url, username) as client:
            for route in guarded:
                refused = role != "Admin" and not set(route.permissions) <= held
                status = _call(client, route, world).status_code
                if (status == 403) != refused or status == 401:
                    expected = "403" if refused else "not 401/403"
                    wrong.append(f"{role} {_label(route)}: {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)


def test_viewer_and_public_change_nothing(guarded: list[GuardedRoute]) -> None:
    for role in ("Viewer", "Public"):
        held = set(DEFAULT_ROLES[role])
        allowed_writes = [
            route.name
            for route in guarded
            if route.method != "get" and set(route.permissions) <= held
        ]
        assert set(allowed_writes) <= READ_ONLY_POSTS, role


def test_deny_all_refuses_every_guarded_route(
    settings: Settings, api_server: LiveServer, world: World, guarded: list[GuardedRoute]
) -> None:
    assert settings.api.auth_backends == "tradewind.api.auth.deny_all"
    with serve(create_api_app(settings, engine=api_server.engine)) as url:
        with _client(url, "admin") as admin:
            statuses = {_label(route): _call(admin, route, world).status_code for route in guarded}
    assert {label: status for label, status in statuses.items() if status != 401} == {}


def _client(url: str, username: str) -> httpx.Client:
    return httpx.Client(base_url=url, auth=(username, PASSWORD), timeout=30)


def _call(client: httpx.Client, route: GuardedRoute, world: World) -> httpx.Response:
    body = {} if route.method in ("post", "put", "patch") else None
    return client.request(route.method.upper(), world.fill(route.path), json=body)


def _label(route: GuardedRoute) -> str:
    return f"{route.method.upper()} {route.path} ({route.name})"
