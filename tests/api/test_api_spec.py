"""The contract served by the API: Airflow's spec as YAML and JSON, and Swagger UI."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

REFERENCE = Path(__file__).parents[2].parent / "shared" / "reference" / "airflow-v1.yaml"


def test_spec_is_served_as_yaml_without_credentials(anonymous: httpx.Client) -> None:
    response = anonymous.get("/openapi.yaml")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    document = yaml.safe_load(response.content)
    assert document["openapi"] == "3.0.3"
    assert document["info"]["title"] == "Airflow API (Stable), served by Tradewind"
    assert document["servers"][0]["url"] == "/api/v1"
    assert len(document["paths"]) == 62


def test_spec_differs_from_airflows_only_in_title_and_server_description(
    anonymous: httpx.Client,
) -> None:
    if not REFERENCE.exists():
        pytest.skip(f"{REFERENCE} is not beside this checkout")
    served = yaml.safe_load(anonymous.get("/openapi.yaml").content)
    reference = yaml.safe_load(REFERENCE.read_bytes())
    for document in (served, reference):
        del document["info"]["title"]
        del document["servers"][0]["description"]
    assert served == reference


def test_json_is_the_same_document(anonymous: httpx.Client) -> None:
    as_yaml = yaml.safe_load(anonymous.get("/openapi.yaml").content)
    response = anonymous.get("/openapi.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == as_yaml
    assert anonymous.get("/openapi.json").content == response.content


def test_swagger_ui_is_served_from_the_package(anonymous: httpx.Client) -> None:
    page = anonymous.get("/ui/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'url: "../openapi.yaml"' in page.text
    assert "./swagger-ui-bundle.js" in page.text

    script = anonymous.get("/ui/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "SwaggerUIBundle" in script.text
    css = anonymous.get("/ui/swagger-ui.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_ui_without_slash_redirects(anonymous: httpx.Client) -> None:
    response = anonymous.get("/ui")
    assert response.status_code == 308
    assert response.headers["location"] == "ui/"
    assert anonymous.get("/ui", follow_redirects=True).url.path == "/api/v1/ui/"


def test_only_the_bundles_files_are_served(anonymous: httpx.Client) -> None:
    for name in ("nope.js", "..%2F__init__.py", "index.j2x"):
        response = anonymous.get(f"/ui/{name}")
        assert response.status_code == 404
        assert response.json()["status"] == 404
