"""``/connections`` through real HTTP: CRUD, secrets never returned, testing a connection."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import airflow_client.client as airflow_client
import httpx
import sqlalchemy as sa
from airflow_client.client.api.connection_api import ConnectionApi
from api_support import PASSWORD, LiveServer
from settings_support import client_with_settings
from sqlalchemy.orm import Session

from tradewind.storage.tables import ConnectionRow

WAREHOUSE = {
    "connection_id": "warehouse",
    "conn_type": "postgres",
    "description": "the DWH",
    "host": "db.example.com",
    "login": "etl",
    "schema": "analytics",
    "port": 5432,
    "password": "hunter2-secret",
    "extra": json.dumps({"sslmode": "require", "api_key": "k-123", "nested": {"token": "t"}}),
}


def test_connection_round_trip_never_returns_the_password(client: httpx.Client) -> None:
    created = client.post("/connections", json=WAREHOUSE)
    assert created.status_code == 200, created.text
    expected = {
        "connection_id": "warehouse",
        "conn_type": "postgres",
        "description": "the DWH",
        "host": "db.example.com",
        "login": "etl",
        "schema": "analytics",
        "port": 5432,
        "extra": json.dumps({"sslmode": "require", "api_key": "***", "nested": {"token": "***"}}),
    }
    assert created.json() == expected
    assert client.get("/connections/warehouse").json() == expected

    listed = client.get("/connections").json()
    assert listed["total_entries"] == 1
    assert listed["connections"] == [
        {key: value for key, value in expected.items() if key != "extra"}
    ]

    patched = client.patch(
        "/connections/warehouse",
        params={"update_mask": "host,port"},
        json={"host": "db2.example.com", "port": 6432, "login": "ignored"},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["host"], patched.json()["port"]) == ("db2.example.com", 6432)
    assert patched.json()["login"] == "etl"

    assert client.delete("/connections/warehouse").status_code == 204
    missing = client.get("/connections/warehouse")
    assert missing.status_code == 404
    assert (
        missing.json()["detail"] == "The Connection with connection_id: `warehouse` was not found"
    )
    assert client.delete("/connections/warehouse").status_code == 404


def test_password_and_extra_are_encrypted_at_rest(client: httpx.Client, session: Session) -> None:
    assert client.post("/connections", json=WAREHOUSE).status_code == 200
    raw = session.execute(sa.text("SELECT password, extra FROM connection")).one()
    assert "hunter2" not in raw.password and "k-123" not in raw.extra
    row = session.scalars(sa.select(ConnectionRow)).one()
    assert (row.password, json.loads(str(row.extra))["api_key"]) == ("hunter2-secret", "k-123")


def test_patch_without_mask_changes_the_fields_sent(client: httpx.Client) -> None:
    assert client.post("/connections", json={"connection_id": "h", "conn_type": "http"}).is_success
    patched = client.patch(
        "/connections/h", json={"connection_id": "h", "host": "example.com", "extra": "not json"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json() == {
        "connection_id": "h",
        "conn_type": "http",
        "description": None,
        "host": "example.com",
        "login": None,
        "schema": None,
        "port": None,
        "extra": "not json",
    }


def test_connections_page_and_order(client: httpx.Client) -> None:
    for conn_id, conn_type in (("b", "http"), ("c", "ftp"), ("a", "postgres")):
        body = {"connection_id": conn_id, "conn_type": conn_type}
        assert client.post("/connections", json=body).status_code == 200

    def ids(**params: object) -> list[str]:
        found = client.get("/connections", params=params).json()
        assert found["total_entries"] == 3
        return [item["connection_id"] for item in found["connections"]]

    assert ids() == ["b", "c", "a"]  # by id: the order of creation
    assert ids(order_by="connection_id") == ["a", "b", "c"]
    assert ids(order_by="-conn_type", limit=2) == ["a", "b"]
    assert ids(order_by="connection_id", offset=2) == ["c"]
    bad = client.get("/connections", params={"order_by": "password"})
    assert bad.status_code == 400 and "password" in bad.json()["detail"]


def test_bad_connection_input_is_a_400_or_409(client: httpx.Client) -> None:
    missing = client.post("/connections", json={"connection_id": "x"})
    assert missing.status_code == 400 and "conn_type" in missing.json()["detail"]
    bad_id = client.post("/connections", json={"connection_id": "no spaces!", "conn_type": "http"})
    assert bad_id.status_code == 400
    assert "alphanumeric characters, dashes, dots and underscores" in bad_id.json()["detail"]
    long_id = client.post("/connections", json={"connection_id": "x" * 201, "conn_type": "http"})
    assert long_id.status_code == 400
    wrong_type = client.post(
        "/connections", json={"connection_id": "x", "conn_type": "http", "port": "80"}
    )
    assert wrong_type.status_code == 400 and "port" in wrong_type.json()["detail"]
    for field, value in (("port", 70000), ("host", "h" * 501), ("schema", "s" * 501)):
        too_big = client.post(
            "/connections", json={"connection_id": "x", "conn_type": "http", field: value}
        )
        assert too_big.status_code == 400 and field in too_big.json()["detail"]

    assert client.post("/connections", json={"connection_id": "x", "conn_type": "http"}).is_success
    duplicate = client.post("/connections", json={"connection_id": "x", "conn_type": "ftp"})
    assert duplicate.status_code == 409
    assert duplicate.json()["detail"] == "Connection already exist. ID: x"

    renamed = client.patch("/connections/x", json={"connection_id": "y", "conn_type": "http"})
    assert renamed.status_code == 400
    assert renamed.json()["detail"] == "The connection_id cannot be updated."
    masked_id = client.patch("/connections/x", params={"update_mask": "connection_id"}, json={})
    assert masked_id.status_code == 400
    assert masked_id.json()["detail"] == "'connection_id' is unknown or cannot be updated."
    null_type = client.patch("/connections/x", json={"conn_type": None})
    assert null_type.status_code == 400
    absent = client.patch("/connections/nope", json={"host": "h"})
    assert absent.status_code == 404
    assert client.get("/connections/x").json()["conn_type"] == "http"


def test_connection_permissions(client_as: Callable[[str], httpx.Client]) -> None:
    viewer = client_as("viewer")
    assert viewer.get("/connections").status_code == 403
    assert viewer.get("/connections/x").status_code == 403
    user = client_as("user")
    assert (
        user.post("/connections", json={"connection_id": "x", "conn_type": "a"}).status_code == 403
    )
    op = client_as("op")
    assert op.post("/connections", json={"connection_id": "x", "conn_type": "a"}).status_code == 200
    assert user.delete("/connections/x").status_code == 403
    assert op.delete("/connections/x").status_code == 204


def test_testing_connections_is_disabled_by_default(client: httpx.Client) -> None:
    refused = client.post("/connections/test", json={"connection_id": "t", "conn_type": "http"})
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "Testing connections is disabled in Tradewind configuration. "
        "Contact your deployment admin to enable it."
    )


def test_testing_a_connection_checks_its_host_and_port(api_server: LiveServer) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    open_port = listener.getsockname()[1]
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    with (
        listener,
        client_with_settings(api_server, "admin", "core", test_connection="Enabled") as c,
    ):
        body = {"connection_id": "t", "conn_type": "postgres", "host": "127.0.0.1"}
        reachable = c.post("/connections/test", json={**body, "port": open_port})
        assert reachable.status_code == 200, reachable.text
        assert reachable.json()["status"] is True
        assert f"127.0.0.1:{open_port}" in reachable.json()["message"]

        unreachable = c.post("/connections/test", json={**body, "port": closed_port}).json()
        assert unreachable["status"] is False
        assert f"Could not connect to 127.0.0.1:{closed_port}" in unreachable["message"]

        unknown = c.post("/connections/test", json={"conn_type": "snowflake", "host": "h"}).json()
        assert unknown["status"] is False and "without a port" in unknown["message"]

        assert c.post("/connections/test", json={"host": "h"}).status_code == 400
    with client_with_settings(api_server, "viewer", "core", test_connection="Enabled") as c:
        assert c.post("/connections/test", json={"conn_type": "http"}).status_code == 403


def test_the_official_client_reads_connections(
    client: httpx.Client, api_server: LiveServer
) -> None:
    assert client.post("/connections", json=WAREHOUSE).status_code == 200
    configuration = airflow_client.Configuration(
        host=api_server.url, username="admin", password=PASSWORD
    )
    with airflow_client.ApiClient(configuration) as api:
        connection = ConnectionApi(api).get_connection("warehouse")
        listed = ConnectionApi(api).get_connections()
    assert (connection.connection_id, connection.schema, connection.port) == (
        "warehouse",
        "analytics",
        5432,
    )
    assert [item.connection_id for item in listed.connections] == ["warehouse"]
