"""Schemathesis against a live server: the spec's GET operations, as far as they exist.

For every GET operation of the spec the app implements (derived from its routes, so the
test grows as routes land), schemathesis generates requests from the spec served at
``/openapi.json`` and the admin sends them to a server whose database holds a real DAG,
a finished run with task instances and the objects around it (``spec_support.seed_world``).
About half of the requests name those objects in their path (so detail endpoints answer
200 with real data), some name every DAG or run with ``~``, the rest use generated names.

Each response must not be a 5xx, must match the schema of its status code, and its status
must be one the spec documents for the operation, or 400: Airflow answers 400 to input
its own checks refuse (a negative ``limit``, an unknown ``order_by`` field) on every
operation although the spec lists it on few.

Generated values stay within what the columns hold: integers within 32 bits (the spec
sets no bounds; Airflow's columns are 32-bit) and strings without NUL characters (which
PostgreSQL refuses). Values beyond that are a separate concern, answered centrally rather
than per route: see :func:`test_values_no_column_can_hold_are_client_errors`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import hypothesis
import pytest
import requests
import schemathesis
from api_support import PASSWORD, LiveServer
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from spec_support import (
    SpecOperation,
    World,
    implemented_operations,
    parameters_of,
    seed_world,
    with_file_token,
)
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings

pytestmark = pytest.mark.slow

#: Requests per operation: enough to vary every parameter a little, fast on 2 cores.
EXAMPLES = 12
#: Path parameters that accept ``~`` (every DAG, every run) on list operations.
WILDCARDS = ("dag_id", "dag_run_id")
#: Operations that answer 404 for the seeded objects, as Airflow does.
NOT_FOUND_IN_WORLD: set[str] = set()
#: Generated integers stay within what the columns hold (see the module docstring).
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
#: Status any operation may answer although the spec does not list it (see docstring).
ALWAYS_ALLOWED = {"400"}


@pytest.fixture
def api_settings(api_settings: Settings) -> Settings:
    # Airflow answers 403 to GET /config unless the configuration is exposed.
    return api_settings.replace("webserver", expose_config=True)


@pytest.fixture
def world(
    api_server: LiveServer,
    session_factory: sessionmaker[Session],
    add_dag_file: Callable[[str, str], None],
    client: httpx.Client,
) -> World:
    return with_file_token(seed_world(session_factory, add_dag_file), client)


@pytest.fixture
def admin_session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.auth = ("admin", PASSWORD)
        yield session


def test_get_operations_conform_to_the_spec(
    api_server: LiveServer, world: World, admin_session: requests.Session
) -> None:
    operations = [op for op in implemented_operations() if op.method == "get"]
    assert operations, "no GET operation of the spec is implemented"
    schema = schemathesis.openapi.from_dict(
        _storable(admin_session.get(f"{api_server.url}/openapi.json").json()),
        config=schemathesis.Config.from_dict({"generation": {"allow-x00": False}}),
    )
    failures, never_found = [], []
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        answered: set[int] = set()
        try:
            _exercise(schema, operation, world, api_server.url, admin_session, answered)
        except (Exception, BaseExceptionGroup) as error:  # reported together below
            failures.append(f"{label}: {_describe(error)}")
        known = world.values_for(operation.path)
        names_world = all(name in known for name in _path_names(operation.path))
        if names_world and not answered & {200, 204} and label not in NOT_FOUND_IN_WORLD:
            never_found.append(f"{label}: {sorted(answered)}")
    if never_found:
        failures.append("naming the seeded objects, never answered 2xx:\n" + "\n".join(never_found))
    assert not failures, f"{len(operations)} operations tested:\n\n" + "\n\n".join(failures)


def test_values_no_column_can_hold_are_client_errors(world: World, client: httpx.Client) -> None:
    server_errors = []
    for operation in implemented_operations():
        if operation.method != "get":
            continue
        for parameter in parameters_of(operation.path, operation.method):
            kind, place = parameter["schema"].get("type"), parameter["in"]
            if kind == "integer":
                value = str(2**70)
            elif kind == "string" and place == "query":
                value = "a\x00b"
            else:
                continue
            name = parameter["name"]
            path = world.fill(operation.path, {name: value} if place == "path" else None)
            where = f"{operation.path} {place} {name}={value!r}"
            query = {name: value} if place == "query" else None
            try:
                # A fresh connection each: after a 500 uvicorn drops the one it answered on.
                response = client.get(path, params=query, headers={"Connection": "close"})
            except httpx.TransportError as error:
                server_errors.append(f"{where}: {error!r}")
                continue
            if response.status_code >= 500:
                server_errors.append(f"{where}: {response.status_code}")
    assert not server_errors, "\n".join(server_errors)


def _exercise(
    schema: schemathesis.BaseSchema,
    operation: SpecOperation,
    world: World,
    base_url: str,
    session: requests.Session,
    answered: set[int],
) -> None:
    """Run the examples of ``operation``; add the statuses of world-named ones to ``answered``."""
    api_operation = schema[operation.path][operation.method.upper()]
    known = world.values_for(operation.path)
    documented = set(api_operation.definition.raw["responses"]) | ALWAYS_ALLOWED

    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(
        case=api_operation.as_strategy(),
        names=st.sampled_from(["world", "wildcard", "generated", "world"]),
    )
    def exercise(case: schemathesis.Case, names: str) -> None:
        for name in case.path_parameters or {}:
            if names == "world" and name in known:
                # Encoded here: schemathesis would send a dataset URI's "//" as "/".
                case.path_parameters[name] = quote(known[name], safe="")
            elif names == "wildcard" and name in WILDCARDS:
                case.path_parameters[name] = "~"
        response = case.call_and_validate(
            base_url=base_url,
            session=session,
            checks=[not_a_server_error, response_schema_conformance],
        )
        if names == "world":
            answered.add(response.status_code)
        assert str(response.status_code) in documented, (
            f"status {response.status_code} is not documented ({sorted(documented)}) for "
            f"{case.as_curl_command()}: {response.text[:300]}"
        )

    exercise()


def _storable(node: Any) -> Any:
    """The spec with every unbounded integer bounded to 32 bits (see the module docstring)."""
    if isinstance(node, list):
        return [_storable(each) for each in node]
    if not isinstance(node, dict):
        return node
    bounded = {key: _storable(value) for key, value in node.items()}
    if bounded.get("type") == "integer":
        bounded.setdefault("minimum", INT32_MIN)
        bounded.setdefault("maximum", INT32_MAX)
    return bounded


def _path_names(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


def _describe(error: BaseException) -> str:
    # A schemathesis failure group's message holds each failure and a curl command.
    return f"{type(error).__name__}: {error}"
