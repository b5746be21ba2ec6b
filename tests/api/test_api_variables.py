"""``/variables`` through real HTTP: CRUD, sensitive values masked, encryption at rest."""

from __future__ import annotations

from collections.abc import Callable

import airflow_client.client as airflow_client
import httpx
import sqlalchemy as sa
from airflow_client.client.api.variable_api import VariableApi
from api_support import PASSWORD, LiveServer
from sqlalchemy.orm import Session

from tradewind.storage.repositories import variables


def test_variable_round_trip(client: httpx.Client) -> None:
    created = client.post(
        "/variables", json={"key": "region", "value": "eu-west-1", "description": "AWS"}
    )
    assert created.status_code == 200, created.text
    assert created.json() == {"key": "region", "value": "eu-west-1", "description": "AWS"}
    assert client.get("/variables/region").json() == created.json()

    patched = client.patch(
        "/variables/region",
        params={"update_mask": "value"},
        json={"key": "region", "value": "us-east-1", "description": "ignored"},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json() == {"key": "region", "value": "us-east-1", "description": "AWS"}

    described = client.patch("/variables/region", json={"key": "region", "description": None})
    assert described.json() == {"key": "region", "value": "us-east-1", "description": None}

    assert client.delete("/variables/region").status_code == 204
    missing = client.get("/variables/region")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Variable does not exist: region"
    assert client.delete("/variables/region").status_code == 404


def test_post_overwrites_an_existing_variable_as_airflow_does(client: httpx.Client) -> None:
    assert client.post("/variables", json={"key": "k", "value": "1"}).status_code == 200
    again = client.post("/variables", json={"key": "k", "value": "2"})
    assert again.status_code == 200 and again.json()["value"] == "2"
    assert client.get("/variables").json()["total_entries"] == 1


def test_keys_with_slashes_are_one_path_parameter(client: httpx.Client) -> None:
    assert client.post("/variables", json={"key": "team/etl", "value": "v"}).status_code == 200
    assert client.get("/variables/team/etl").json()["key"] == "team/etl"


def test_sensitive_values_are_masked_and_encrypted_at_rest(
    client: httpx.Client, session: Session
) -> None:
    posted = client.post("/variables", json={"key": "db_password", "value": "hunter2-secret"})
    assert posted.json()["value"] == "***"
    assert client.post("/variables", json={"key": "bucket", "value": "logs"}).status_code == 200

    assert client.get("/variables/db_password").json()["value"] == "***"
    listed = {item["key"]: item["value"] for item in client.get("/variables").json()["variables"]}
    assert listed == {"db_password": "***", "bucket": "logs"}

    stored = session.scalar(sa.text("SELECT val FROM variable WHERE key = 'db_password'"))
    assert stored is not None and "hunter2" not in stored
    assert variables.get_variable_value(session, "db_password") == "hunter2-secret"


def test_variables_page_and_order(client: httpx.Client) -> None:
    for key in ("b", "c", "a"):
        assert client.post("/variables", json={"key": key, "value": key}).status_code == 200

    def keys(**params: object) -> list[str]:
        found = client.get("/variables", params=params).json()
        assert found["total_entries"] == 3
        return [item["key"] for item in found["variables"]]

    assert keys() == ["b", "c", "a"]
    assert keys(order_by="-key", limit=2) == ["c", "b"]
    assert keys(order_by="key", offset=1) == ["b", "c"]
    assert client.get("/variables", params={"order_by": "nope"}).status_code == 400


def test_bad_variable_input_is_a_400(client: httpx.Client) -> None:
    missing = client.post("/variables", json={"key": "k"})
    assert missing.status_code == 400 and "value" in missing.json()["detail"]
    not_text = client.post("/variables", json={"key": "k", "value": 3})
    assert not_text.status_code == 400 and "value" in not_text.json()["detail"]
    long_key = client.post("/variables", json={"key": "k" * 251, "value": "v"})
    assert long_key.status_code == 400 and "key" in long_key.json()["detail"]

    assert client.post("/variables", json={"key": "k", "value": "v"}).status_code == 200
    other_key = client.patch("/variables/k", json={"key": "j", "value": "v"})
    assert other_key.status_code == 400
    assert other_key.json()["detail"] == "key from request body doesn't match uri parameter"
    no_key = client.patch("/variables/k", json={"value": "v"})
    assert no_key.status_code == 400
    masked_key = client.patch(
        "/variables/k", params={"update_mask": "key"}, json={"key": "k", "value": "w"}
    )
    assert masked_key.status_code == 400
    assert masked_key.json()["detail"] == "'key' is unknown or cannot be updated."
    null_value = client.patch("/variables/k", json={"key": "k", "value": None})
    assert null_value.status_code == 400
    absent = client.patch("/variables/nope", json={"key": "nope", "value": "v"})
    assert absent.status_code == 404
    assert client.get("/variables/k").json()["value"] == "v"


def test_variable_permissions(client_as: Callable[[str], httpx.Client]) -> None:
    viewer = client_as("viewer")
    assert viewer.get("/variables").status_code == 403
    assert viewer.get("/variables/k").status_code == 403
    user = client_as("user")
    assert user.post("/variables", json={"key": "k", "value": "v"}).status_code == 403
    op = client_as("op")
    assert op.post("/variables", json={"key": "k", "value": "v"}).status_code == 200
    assert user.patch("/variables/k", json={"key": "k", "value": "w"}).status_code == 403
    assert user.delete("/variables/k").status_code == 403
    assert op.delete("/variables/k").status_code == 204


def test_the_official_client_reads_variables(client: httpx.Client, api_server: LiveServer) -> None:
    assert client.post("/variables", json={"key": "region", "value": "eu"}).status_code == 200
    configuration = airflow_client.Configuration(
        host=api_server.url, username="admin", password=PASSWORD
    )
    with airflow_client.ApiClient(configuration) as api:
        variable = VariableApi(api).get_variable("region")
        listed = VariableApi(api).get_variables()
    assert (variable.key, variable.value) == ("region", "eu")
    assert [item.key for item in listed.variables] == ["region"]
