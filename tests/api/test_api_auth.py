"""Authentication and authorisation at the gate: deny-all by default, Basic auth,
public endpoints, and a permission check on every route."""

from __future__ import annotations

import httpx
import pytest
from api_support import PASSWORD, LiveServer, serve
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session, sessionmaker

from tradewind.api.app import ROUTERS, create_api_app
from tradewind.api.auth.backends import load_backends
from tradewind.api.auth.session import issue_session
from tradewind.config import Settings
from tradewind.errors import ConfigError
from tradewind.security.passwords import hash_password
from tradewind.security.users import get_user
from tradewind.storage.engine import transaction

#: Routes anyone may call, as in Airflow: health, version, the spec and Swagger UI.
PUBLIC_OPERATIONS = {
    "get_health",
    "get_version",
    "get_openapi_yaml",
    "get_openapi_json",
    "get_swagger_ui_redirect",
    "get_swagger_ui",
    "get_swagger_ui_file",
}


def test_every_route_checks_a_permission() -> None:
    unguarded = []
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            if route.name in PUBLIC_OPERATIONS:
                continue
            checks = [
                dep.call
                for dep in route.dependant.dependencies
                if hasattr(dep.call, "__permission__")
            ]
            if not checks:
                unguarded.append(route.name)
    assert unguarded == []


def test_default_configuration_denies_everything(
    settings: Settings, api_server: LiveServer
) -> None:
    assert settings.api.auth_backends == "tradewind.api.auth.deny_all"
    with serve(create_api_app(settings, engine=api_server.engine)) as url:
        with httpx.Client(base_url=url, auth=("admin", PASSWORD)) as admin:
            refused = admin.get("/pools")
            assert refused.status_code == 401
            assert "www-authenticate" not in refused.headers
            assert admin.post("/pools", json={"name": "x", "slots": 1}).status_code == 401
            assert admin.get("/health").status_code == 200


def test_unauthenticated_requests_get_401_before_anything_is_parsed(
    anonymous: httpx.Client,
) -> None:
    response = anonymous.get("/pools")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Basic"
    assert response.json()["title"] == "Unauthorized"

    malformed = anonymous.post(
        "/pools", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 401


def test_wrong_password_and_unknown_user_are_refused(api_server: LiveServer) -> None:
    for auth in (("admin", "wrong"), ("nobody", PASSWORD)):
        with httpx.Client(base_url=api_server.url, auth=auth) as client:
            assert client.get("/pools").status_code == 401


def test_public_endpoints_need_no_credentials(anonymous: httpx.Client) -> None:
    health = anonymous.get("/health")
    assert health.status_code == 200
    assert health.json()["metadatabase"] == {"status": "healthy"}
    assert health.json()["scheduler"]["status"] == "unhealthy"  # no scheduler runs here
    version = anonymous.get("/version").json()
    assert version["version"] and "git_version" in version


def test_unknown_endpoint_is_a_problem_document(client: httpx.Client) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_repeated_failures_lock_out_even_the_right_password(api_server: LiveServer) -> None:
    limit = api_server.settings.api.login_attempts_per_window
    with httpx.Client(base_url=api_server.url, auth=("viewer", "wrong")) as guesser:
        for _ in range(limit):
            assert guesser.get("/health").status_code == 200  # public: not counted
            assert guesser.get("/dags").status_code == 401
    with httpx.Client(base_url=api_server.url, auth=("viewer", PASSWORD)) as owner:
        assert owner.get("/pools").status_code == 401


@pytest.mark.parametrize(
    "value",
    ["airflow.api.auth.backend.default", "no.such.backend", " , "],
)
def test_unsafe_or_unknown_backends_are_configuration_errors(
    settings: Settings, value: str
) -> None:
    with pytest.raises(ConfigError):
        load_backends(settings.replace("api", auth_backends=value))


def test_airflow_backend_names_are_aliases(settings: Settings) -> None:
    names = "airflow.api.auth.backend.basic_auth,airflow.api.auth.backend.deny_all"
    backends = load_backends(settings.replace("api", auth_backends=names))
    assert [backend.name for backend in backends] == ["basic_auth", "deny_all"]


def test_session_cookie_authenticates_and_writes_need_the_csrf_token(
    api_server: LiveServer, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        user = get_user(session, "op")
        assert user is not None
        cookie, csrf = issue_session(api_server.settings, user)
    with httpx.Client(base_url=api_server.url, cookies={"session": cookie}) as browser:
        assert browser.get("/pools").status_code == 200
        body = {"name": "web", "slots": 1}
        assert browser.post("/pools", json=body).status_code == 401
        forged = browser.post("/pools", json=body, headers={"X-CSRF-Token": "guess"})
        assert forged.status_code == 401
        created = browser.post("/pools", json=body, headers={"X-CSRF-Token": csrf})
        assert created.status_code == 200
    with httpx.Client(base_url=api_server.url, cookies={"session": cookie + "x"}) as tampered:
        assert tampered.get("/pools").status_code == 401

    with transaction(session_factory) as session:
        user = get_user(session, "op")
        assert user is not None
        user.password_hash = hash_password("a new password")
    with httpx.Client(base_url=api_server.url, cookies={"session": cookie}) as stale:
        assert stale.get("/pools").status_code == 401
