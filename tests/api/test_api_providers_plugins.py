"""``/providers`` and ``/plugins`` through real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import airflow_client.client as airflow_client
import httpx
import pytest
from airflow_client.client.api.plugin_api import PluginApi
from airflow_client.client.api.provider_api import ProviderApi
from api_support import PASSWORD, LiveServer

FAKE_PROVIDER = "apache-airflow-providers-tradewind-test"


@pytest.fixture
def fake_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An installed (importable, metadata only) provider distribution; its name."""
    site = tmp_path / "site"
    dist_info = site / "apache_airflow_providers_tradewind_test-1.2.3.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {FAKE_PROVIDER}\nVersion: 1.2.3\n"
        "Summary: A provider for Tradewind's tests\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[apache_airflow_provider]\nprovider_info = tradewind_test_provider:get_provider_info\n"
    )
    monkeypatch.syspath_prepend(str(site))
    return FAKE_PROVIDER


def test_providers_lists_installed_provider_packages(
    client: httpx.Client, fake_provider: str
) -> None:
    found = client.get("/providers")
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["total_entries"] == len(body["providers"])
    assert {
        "package_name": fake_provider,
        "description": "A provider for Tradewind's tests",
        "version": "1.2.3",
    } in body["providers"]
    assert all(set(p) == {"package_name", "description", "version"} for p in body["providers"])


def test_providers_without_any_installed_is_an_empty_list(client: httpx.Client) -> None:
    body = client.get("/providers").json()
    assert FAKE_PROVIDER not in [p["package_name"] for p in body["providers"]]
    assert body["total_entries"] == len(body["providers"])


def test_plugins_are_an_empty_collection(client: httpx.Client) -> None:
    found = client.get("/plugins", params={"limit": 10, "offset": 0})
    assert found.status_code == 200
    assert found.json() == {"plugins": [], "total_entries": 0}
    assert client.get("/plugins", params={"limit": -1}).status_code == 400


def test_provider_and_plugin_permissions(client_as: Callable[[str], httpx.Client]) -> None:
    # Viewers may list plugins but not providers; Op may list both (Airflow's defaults).
    viewer = client_as("viewer")
    assert viewer.get("/providers").status_code == 403
    assert viewer.get("/plugins").status_code == 200
    assert client_as("op").get("/providers").status_code == 200
    assert client_as("public").get("/plugins").status_code == 403


def test_the_official_client_reads_providers_and_plugins(
    api_server: LiveServer, fake_provider: str
) -> None:
    configuration = airflow_client.Configuration(
        host=api_server.url, username="admin", password=PASSWORD
    )
    with airflow_client.ApiClient(configuration) as api:
        providers = ProviderApi(api).get_providers()
        plugins = PluginApi(api).get_plugins()
    # The client's generated code leaves this answer (an inline allOf) as a plain dict.
    assert fake_provider in [provider["package_name"] for provider in providers["providers"]]
    assert plugins.total_entries == 0
