"""``POST /auth/login`` and ``POST /auth/logout``: how a browser gets a session cookie.

Outside ``/api/v1``, so the authentication middleware lets these through: logging in is
how one gets credentials. A good username and password answer ``{"csrf_token": ...}``
and set the ``session`` cookie (see :mod:`tradewind.api.auth.session`): HttpOnly, so
page scripts cannot read it, SameSite=Lax, and Secure when the request came over HTTPS.
The page keeps the CSRF token and sends it as ``X-CSRF-Token`` on every change.

Failed logins count against the username and the client address in a
:class:`~tradewind.api.auth.basic.LoginThrottle` (``[api] login_attempts_per_window``
per ``login_window_seconds``), as Basic auth's do; past the limit even the right
password is refused until the window moves on. Every answer to a bad login is the same
401, so it does not tell which usernames exist.

Logging out deletes the cookie in the browser. The cookie is signed, not stored, so a
copy taken before logout stays valid until it expires or the password changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field
from sqlalchemy.orm import Session

from tradewind.api.auth.backends import BACKENDS, parse_backend_names
from tradewind.api.auth.basic import LoginThrottle
from tradewind.api.auth.session import COOKIE_NAME, issue_session
from tradewind.api.deps import ApiState, api_state
from tradewind.api.schemas.base import RequestBody, ResponseBody
from tradewind.config import Settings
from tradewind.errors import NotFound, Unauthenticated
from tradewind.security.passwords import verify_password
from tradewind.security.users import get_user
from tradewind.services.audit import record_event
from tradewind.storage.engine import transaction
from tradewind.storage.tables import UserRow

router = APIRouter(prefix="/auth", tags=["Auth"])

SESSION_BACKEND = "tradewind.api.auth.session"
_REFUSED = "Invalid username or password"


class LoginBody(RequestBody):
    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=1024)


class LoginResult(ResponseBody):
    csrf_token: str


async def login_throttle(
    request: Request, state: Annotated[ApiState, Depends(api_state)]
) -> LoginThrottle:
    """The application's throttle of failed logins, made on first use."""
    throttle = getattr(request.app.state, "login_throttle", None)
    if not isinstance(throttle, LoginThrottle):
        api = state.settings.api
        throttle = LoginThrottle(api.login_attempts_per_window, api.login_window_seconds)
        request.app.state.login_throttle = throttle
    return throttle


@router.post("/login", name="login")
def login(
    body: LoginBody,
    request: Request,
    response: Response,
    state: Annotated[ApiState, Depends(api_state)],
    throttle: Annotated[LoginThrottle, Depends(login_throttle)],
) -> LoginResult:
    if not session_login_enabled(state.settings):
        raise NotFound(
            "Session login is off: add tradewind.api.auth.session to [api] auth_backends"
        )
    address = request.client.host if request.client else "unknown"
    keys = (f"user:{body.username}", f"address:{address}")
    if throttle.blocked(*keys):
        raise Unauthenticated(_REFUSED)
    with transaction(state.session_factory, sqlite_begin="IMMEDIATE") as session:
        user = _check_password(session, body, datetime.now(UTC))
        issued = issue_session(state.settings, user) if user is not None else None
    if issued is None:
        throttle.record_failure(*keys)
        raise Unauthenticated(_REFUSED)
    throttle.forget(keys[0])
    cookie, csrf = issued
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=state.settings.webserver.session_lifetime_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return LoginResult(csrf_token=csrf)


def session_login_enabled(settings: Settings) -> bool:
    """Whether ``[api] auth_backends`` accepts session cookies (else a login is useless)."""
    names = parse_backend_names(settings.api.auth_backends)
    return any(BACKENDS.get(name) is BACKENDS[SESSION_BACKEND] for name in names)


def _check_password(session: Session, body: LoginBody, now: datetime) -> UserRow | None:
    """The active user ``body`` proves, recording the attempt on the user and in the audit
    log either way (never the password)."""
    user = get_user(session, body.username)
    password_hash = user.password_hash if user is not None else None
    if not verify_password(body.password, password_hash) or user is None or not user.active:
        if user is not None:
            user.failed_login_count += 1
        record_event(session, "auth.login_failed", now=now, owner=body.username)
        return None
    user.last_login = now
    user.login_count += 1
    record_event(session, "auth.login", now=now, owner=user.username)
    return user


@router.post("/logout", name="logout", status_code=204)
def logout(request: Request) -> Response:
    response = Response(status_code=204)
    response.delete_cookie(
        COOKIE_NAME, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/"
    )
    return response
