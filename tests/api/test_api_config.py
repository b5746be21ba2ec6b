"""``/config`` through real HTTP: gated by ``[webserver] expose_config``, secrets hidden."""

from __future__ import annotations

from collections.abc import Iterator

import airflow_client.client as airflow_client
import httpx
import pytest
from airflow_client.client.api.config_api import ConfigApi
from api_support import PASSWORD, LiveServer
from settings_support import client_with_settings

JSON = {"accept": "application/json"}
REFUSAL = (
    "Your Tradewind administrator chose not to expose the configuration, "
    "most likely for security reasons."
)


@pytest.fixture
def exposed(api_server: LiveServer) -> Iterator[httpx.Client]:
    """An admin client of a server with ``[webserver] expose_config = True``."""
    with client_with_settings(api_server, "admin", "webserver", expose_config=True) as client:
        yield client


def test_config_is_not_exposed_by_default(client: httpx.Client) -> None:
    for path in ("/config", "/config/section/core/option/dags_folder"):
        refused = client.get(path, headers=JSON)
        assert refused.status_code == 403
        assert refused.json()["detail"] == REFUSAL


def test_config_as_json_hides_secrets(exposed: httpx.Client, api_server: LiveServer) -> None:
    found = exposed.get("/config", headers=JSON)
    assert found.status_code == 200, found.text
    assert found.headers["content-type"] == "application/json"
    sections = {
        section["name"]: {option["key"]: option["value"] for option in section["options"]}
        for section in found.json()["sections"]
    }
    assert {"core", "database", "scheduler", "api", "webserver"} <= set(sections)
    assert sections["core"]["dags_folder"] == str(api_server.settings.core.dags_folder)
    assert sections["webserver"]["expose_config"] == "True"
    assert sections["core"]["fernet_key"] == "< hidden >"
    assert sections["database"]["sql_alchemy_conn"] == "< hidden >"
    assert api_server.settings.core.fernet_key not in found.text

    core = exposed.get("/config", params={"section": "core"}, headers=JSON).json()
    assert [section["name"] for section in core["sections"]] == ["core"]
    missing = exposed.get("/config", params={"section": "nope"}, headers=JSON)
    assert missing.status_code == 404 and missing.json()["detail"] == "section=nope not found."


def test_config_as_text(exposed: httpx.Client, api_server: LiveServer) -> None:
    text = exposed.get("/config", params={"section": "api"}, headers={"accept": "text/plain"})
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/plain")
    lines = text.text.splitlines()
    assert lines[0] == "[api]"
    assert f"maximum_page_limit = {api_server.settings.api.maximum_page_limit}" in lines
    # Like Airflow, a client accepting anything gets the text.
    assert exposed.get("/config", headers={"accept": "*/*"}).text.startswith("[core]\n")
    refused = exposed.get("/config", headers={"accept": "application/xml"})
    assert refused.status_code == 406


def test_one_config_value(exposed: httpx.Client, api_server: LiveServer) -> None:
    found = exposed.get("/config/section/core/option/dags_folder", headers=JSON)
    assert found.status_code == 200, found.text
    assert found.json() == {
        "sections": [
            {
                "name": "core",
                "options": [
                    {"key": "dags_folder", "value": str(api_server.settings.core.dags_folder)}
                ],
            }
        ]
    }
    secret = exposed.get("/config/section/webserver/option/secret_key", headers=JSON).json()
    assert secret["sections"][0]["options"][0]["value"] == "< hidden >"
    text = exposed.get("/config/section/core/option/parallelism", headers={"accept": "text/plain"})
    assert text.text == f"[core]\nparallelism = {api_server.settings.core.parallelism}\n"

    missing = exposed.get("/config/section/core/option/nope", headers=JSON)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "The option [core/nope] is not found in config."
    assert exposed.get("/config/section/nope/option/x", headers=JSON).status_code == 404


def test_config_permissions(api_server: LiveServer) -> None:
    with client_with_settings(api_server, "viewer", "webserver", expose_config=True) as viewer:
        assert viewer.get("/config", headers=JSON).status_code == 403
        assert viewer.get("/config/section/core/option/dags_folder").status_code == 403
    with client_with_settings(api_server, "op", "webserver", expose_config=True) as op:
        assert op.get("/config", headers=JSON).status_code == 200


def test_the_official_client_reads_the_config(api_server: LiveServer) -> None:
    settings = api_server.settings.replace("webserver", expose_config=True)
    with client_with_settings(api_server, "admin", "webserver", expose_config=True) as client:
        configuration = airflow_client.Configuration(
            host=str(client.base_url).rstrip("/"), username="admin", password=PASSWORD
        )
        with airflow_client.ApiClient(configuration) as api:
            config = ConfigApi(api).get_config(section="core")
            value = ConfigApi(api).get_value("core", "parallelism")
    assert config.sections[0].name == "core"
    assert value.sections[0].options[0].value == str(settings.core.parallelism)
