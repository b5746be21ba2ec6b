"""Authentication backends: who is making this request, if anyone.

``[api] auth_backends`` names backends in the order they are tried; the first that
recognises the request's credentials decides. The default, ``deny_all``, recognises
nobody, so a fresh install refuses every API request until an operator enables a real
backend. Airflow's module names are accepted as aliases, so an ``airflow.cfg`` line
carried over works unchanged::

    [api]
    auth_backends = airflow.api.auth.backend.basic_auth,airflow.api.auth.backend.session

Airflow's ``airflow.api.auth.backend.default`` lets everyone in unauthenticated; it is
refused with a configuration error rather than honoured.

A backend looks at a request in two steps. :meth:`AuthBackend.credential_key` checks what
it can without the database (header syntax, signatures, CSRF token, throttling) and names
the credentials by a digest; :meth:`AuthBackend.authenticate` then proves the user from
the database. The middleware skips the second step when it proved the same key before
and nothing changed since (see :mod:`tradewind.api.auth.principal`). Either step returns
None when the request carries none of the backend's credentials or wrong ones; backends
never raise for bad credentials: the middleware answers 401 once every backend has
declined.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from tradewind.api.auth.principal import Proof
from tradewind.config import Settings
from tradewind.errors import ConfigError


class AuthBackend(Protocol):
    """One way of proving who a request comes from."""

    #: Short name, recorded as how a principal logged in (``basic_auth``).
    name: str
    #: ``WWW-Authenticate`` value sent with a 401 when this backend is enabled, or None.
    challenge: str | None

    def credential_key(self, request: HTTPConnection) -> bytes | None:
        """A digest naming the credentials ``request`` presents to this backend, once
        every check that needs no database has passed; None when it presents none this
        backend could accept (so :meth:`authenticate` would return None too).

        Equal keys must mean equal credentials: while the security generation is
        unchanged, a user proven for a key is proven for the next request with it.
        Never the credentials themselves (a keyed hash or a digest of them). Runs on
        the event loop: it must not block (no database, no password hashing).
        """
        ...

    def authenticate(self, request: HTTPConnection, session: Session) -> Proof | None:
        """The active user this request's credentials prove, or None.

        Runs in a worker thread with a read-write session (a backend may record a
        login); must not raise for missing or wrong credentials.
        """
        ...


class DenyAll:
    """Recognises nobody: with only this backend, every request gets a 401."""

    name = "deny_all"
    challenge: str | None = None

    def credential_key(self, request: HTTPConnection) -> bytes | None:
        return None

    def authenticate(self, request: HTTPConnection, session: Session) -> Proof | None:
        return None


BackendFactory = Callable[[Settings], AuthBackend]

#: Airflow's name for the backend that lets every request in unauthenticated.
_ALLOW_ALL_NAMES = ("airflow.api.auth.backend.default",)


def _deny_all(settings: Settings) -> AuthBackend:
    return DenyAll()


def _basic_auth(settings: Settings) -> AuthBackend:
    from tradewind.api.auth.basic import BasicAuth

    return BasicAuth(settings)


def _session(settings: Settings) -> AuthBackend:
    from tradewind.api.auth.session import SessionAuth

    return SessionAuth(settings)


def _token(settings: Settings) -> AuthBackend:
    from tradewind.api.auth.token import TokenAuth

    return TokenAuth(settings)


#: Every accepted backend name (Tradewind's and Airflow's) -> how to build it.
BACKENDS: dict[str, BackendFactory] = {
    "tradewind.api.auth.deny_all": _deny_all,
    "airflow.api.auth.backend.deny_all": _deny_all,
    "tradewind.api.auth.basic_auth": _basic_auth,
    "airflow.api.auth.backend.basic_auth": _basic_auth,
    "airflow.providers.fab.auth_manager.api.auth.backend.basic_auth": _basic_auth,
    "tradewind.api.auth.session": _session,
    "airflow.api.auth.backend.session": _session,
    "airflow.providers.fab.auth_manager.api.auth.backend.session": _session,
    "tradewind.api.auth.token": _token,
}


def parse_backend_names(value: str) -> list[str]:
    """The backend names of an ``auth_backends`` value (comma separated, blanks ignored)."""
    return [name.strip() for name in value.split(",") if name.strip()]


def load_backends(settings: Settings) -> Sequence[AuthBackend]:
    """The backends ``[api] auth_backends`` selects, in order.

    Raises:
        ConfigError: an unknown name, Airflow's allow-all backend, or an empty list.
    """
    names = parse_backend_names(settings.api.auth_backends)
    if not names:
        raise ConfigError("[api] auth_backends is empty; use tradewind.api.auth.deny_all")
    backends = []
    for name in names:
        if name in _ALLOW_ALL_NAMES:
            raise ConfigError(
                f"[api] auth_backends: {name} would let every request in without credentials; "
                "Tradewind does not offer it. Enable tradewind.api.auth.basic_auth instead"
            )
        factory = BACKENDS.get(name)
        if factory is None:
            raise ConfigError(
                f"[api] auth_backends: unknown backend {name!r}; known: "
                + ", ".join(sorted(n for n in BACKENDS if n.startswith("tradewind.")))
            )
        backends.append(factory(settings))
    return backends
