"""``POST /auth/login`` and ``/auth/logout``: a browser's session cookie, end to end.

``app.py`` does not include the login router yet, so each test serves the real API
application with the router added, exactly as ``create_api_app`` will.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from api_support import PASSWORD, serve
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.api.app import create_api_app
from tradewind.api.routes import login
from tradewind.config import Settings
from tradewind.security.users import get_user
from tradewind.storage.engine import transaction
from tradewind.storage.tables import LogRow


def site(settings: Settings, engine: Engine) -> Iterator[str]:
    app = create_api_app(settings, engine=engine)
    app.include_router(login.router)
    with serve(app) as url:
        yield url.removesuffix("/api/v1")


@pytest.fixture
def base_url(api_server: object, api_settings: Settings, engine: Engine) -> Iterator[str]:
    yield from site(api_settings, engine)


def test_login_gives_a_session_for_the_api(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as browser:
        logged_in = browser.post("/auth/login", json={"username": "op", "password": PASSWORD})
        assert logged_in.status_code == 200, logged_in.text
        csrf = logged_in.json()["csrf_token"]
        cookie = logged_in.headers["set-cookie"].lower()
        assert cookie.startswith("session=")
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
        assert "secure" not in cookie  # plain http here; https requests get Secure

        assert browser.get("/api/v1/pools").status_code == 200
        body = {"name": "web", "slots": 1}
        assert browser.post("/api/v1/pools", json=body).status_code == 401
        with_csrf = browser.post("/api/v1/pools", json=body, headers={"X-CSRF-Token": csrf})
        assert with_csrf.status_code == 200

        logged_out = browser.post("/auth/logout")
        assert logged_out.status_code == 204
        assert logged_out.headers["set-cookie"].startswith('session="";')
        assert browser.get("/api/v1/pools").status_code == 401


def test_login_is_recorded_on_the_user_and_in_the_audit_log(
    base_url: str, session_factory: sessionmaker[Session]
) -> None:
    with httpx.Client(base_url=base_url) as browser:
        wrong = browser.post("/auth/login", json={"username": "op", "password": "nope"})
        assert wrong.status_code == 401
        right = browser.post("/auth/login", json={"username": "op", "password": PASSWORD})
        assert right.status_code == 200
    with transaction(session_factory) as session:
        user = get_user(session, "op")
        assert user is not None
        assert (user.login_count, user.failed_login_count) == (1, 1)
        assert user.last_login is not None
        events = session.execute(sa.select(LogRow.event, LogRow.owner, LogRow.extra)).all()
    assert sorted(events) == [("auth.login", "op", None), ("auth.login_failed", "op", None)]


def test_bad_logins_are_the_same_401(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as browser:
        for body in (
            {"username": "op", "password": "wrong"},
            {"username": "nobody", "password": PASSWORD},
        ):
            refused = browser.post("/auth/login", json=body)
            assert refused.status_code == 401
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["detail"] == "Invalid username or password"
            assert "set-cookie" not in refused.headers
        malformed = browser.post("/auth/login", json={"username": "op"})
        assert malformed.status_code == 400


def test_repeated_failures_lock_the_login_out(base_url: str, api_settings: Settings) -> None:
    limit = api_settings.api.login_attempts_per_window
    with httpx.Client(base_url=base_url) as guesser:
        for _ in range(limit):
            body = {"username": "viewer", "password": "guess"}
            assert guesser.post("/auth/login", json=body).status_code == 401
        right = {"username": "viewer", "password": PASSWORD}
        assert guesser.post("/auth/login", json=right).status_code == 401


def test_login_is_off_without_the_session_backend(
    api_server: object, api_settings: Settings, engine: Engine
) -> None:
    basic_only = api_settings.replace("api", auth_backends="tradewind.api.auth.basic_auth")
    for url in site(basic_only, engine):
        with httpx.Client(base_url=url) as browser:
            body = {"username": "op", "password": PASSWORD}
            assert browser.post("/auth/login", json=body).status_code == 404
