"""The gate in front of ``/api/v1``: no request reaches a route without a principal.

Authentication runs as ASGI middleware, before FastAPI parses a body or a query string,
so an unauthenticated client learns nothing (not even whether its JSON was malformed)
and no route can forget to ask. The principal it finds (user, permissions, how it
logged in) is put in ``scope["state"]["principal"]``, where :mod:`tradewind.api.deps`
reads it; each route then checks the permission it needs.

A principal proven once is trusted again for the same credentials while the security
generation reads the same (:mod:`tradewind.api.auth.principal`): a request then costs
one tiny query instead of three, and no argon2 check, while any change to users, roles,
permissions or tokens still takes effect on the very next request. On SQLite that query
runs on the event loop (:mod:`tradewind.api.inline_reads`); proving credentials not
remembered (argon2, a backend recording a login) always runs in a worker thread.

Public paths (``/api/v1/health``, ``/api/v1/version``, the spec and its viewer) pass
without credentials, as in Airflow.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

import anyio.to_thread
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from tradewind.api.auth.backends import AuthBackend
from tradewind.api.auth.principal import CredentialKey, Principal, PrincipalCache
from tradewind.api.inline_reads import reads_inline
from tradewind.api.problems import PROBLEM_MEDIA_TYPE
from tradewind.security.generation import read_generation
from tradewind.security.permissions import grants_of
from tradewind.storage.engine import transaction

__all__ = ["API_PREFIX", "PUBLIC_PATHS", "AuthenticationMiddleware", "Principal"]

API_PREFIX = "/api/v1"
#: Paths under :data:`API_PREFIX` anyone may read, as in Airflow.
PUBLIC_PATHS = frozenset(
    {
        "/health",
        "/version",
        "/openapi.yaml",
        "/openapi.json",
        "/ui",
        "/ui/",
    }
)


class AuthenticationMiddleware:
    """Answers 401 to any non-public ``/api/v1`` request no backend recognises."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        backends: Sequence[AuthBackend],
        engine: Engine,
        session_factory: sessionmaker[Session],
        public_paths: Collection[str] = PUBLIC_PATHS,
    ) -> None:
        self.app = app
        self.backends = tuple(backends)
        self.engine = engine
        self.inline_reads = reads_inline(engine)
        self.session_factory = session_factory
        self.public_paths = frozenset(API_PREFIX + path for path in public_paths)
        self.principals = PrincipalCache()
        challenges = [b.challenge for b in self.backends if b.challenge]
        self.challenge = challenges[0] if challenges else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._guarded(scope["path"]):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        presented = self._presented(connection)
        principal = None
        if presented and self.inline_reads:
            principal = self._remembered(presented)
        if presented and principal is None:
            principal = await anyio.to_thread.run_sync(self._authenticate, connection, presented)
        if principal is None:
            await self._refuse(scope, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    def _guarded(self, path: str) -> bool:
        if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
            return False
        return path not in self.public_paths and not path.startswith(API_PREFIX + "/ui/")

    def _presented(self, connection: HTTPConnection) -> list[tuple[AuthBackend, bytes]]:
        """Each backend whose credentials the request presents, with their digest: the
        checks that need no database. Empty: nothing any backend could accept, so the
        request is refused without database work."""
        return [
            (backend, digest)
            for backend in self.backends
            if (digest := backend.credential_key(connection)) is not None
        ]

    def _remembered(self, presented: list[tuple[AuthBackend, bytes]]) -> Principal | None:
        """The principal remembered for the first credentials presented, if it still
        holds; None sends the request to :meth:`_authenticate`.

        Only the first backend's key counts: :meth:`_authenticate` would try that
        backend before any other, so answering from a later one's key could skip its
        failure being recorded.
        """
        backend, digest = presented[0]
        key: CredentialKey = (backend.name, digest)
        if not self.principals.holds(key):  # nothing to check: no query either
            return None
        with self.engine.connect() as database:
            generation = read_generation(database)
        return self.principals.get(key, generation, datetime.now(UTC))

    def _authenticate(
        self, connection: HTTPConnection, presented: list[tuple[AuthBackend, bytes]]
    ) -> Principal | None:
        # One short transaction; a backend may record a login or a failure in it.
        with transaction(self.session_factory) as session:
            # Read before any principal is loaded: see tradewind.security.generation.
            generation = read_generation(session)
            now = datetime.now(UTC)
            for backend, digest in presented:
                key = (backend.name, digest)
                principal = self.principals.get(key, generation, now)
                if principal is not None:
                    return principal
                proof = backend.authenticate(connection, session)
                if proof is None:
                    continue
                user = proof.user
                principal = Principal(user.id, user.username, grants_of(user), backend.name)
                self.principals.put(
                    key, generation, principal, now=now, expires_at=proof.expires_at
                )
                return principal
        return None

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = json.dumps(
            {
                "type": "/api/v1/ui/#section/Errors/Unauthenticated",
                "title": "Unauthorized",
                "status": 401,
                "detail": "Authentication is required to use this API",
                "instance": scope["path"],
            }
        ).encode()
        headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        if self.challenge:
            headers.append((b"www-authenticate", self.challenge.encode()))
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})
