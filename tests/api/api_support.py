"""Serving the API for tests: a live uvicorn server, test users, HTTP clients.

Users ``admin``, ``op``, ``user``, ``viewer`` and ``public`` hold the role of the same
name (capitalised); all share the password :data:`PASSWORD`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tradewind.config import Settings
from tradewind.security.users import get_role
from tradewind.storage.tables import UserRow

PASSWORD = "correct horse battery staple"
#: A real argon2id hash, made with cheap parameters: the default ones cost ~50 ms a
#: check on purpose, which would dominate tests. Verification reads them from the hash.
PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
USERS = {"admin": "Admin", "op": "Op", "user": "User", "viewer": "Viewer", "public": "Public"}
#: The backends the ``api_settings`` fixture enables.
ALL_BACKENDS = "tradewind.api.auth.basic_auth,tradewind.api.auth.session,tradewind.api.auth.token"


@dataclass(frozen=True)
class LiveServer:
    """A running API server: ``url`` ends in ``/api/v1``."""

    url: str
    settings: Settings
    engine: Engine


def create_users(session: Session) -> None:
    """Add one user per default role (see :data:`USERS`); roles must exist."""
    for username, role in USERS.items():
        session.add(
            UserRow(
                username=username,
                email=f"{username}@example.com",
                first_name=username.title(),
                last_name="Tester",
                active=True,
                password_hash=PASSWORD_HASH,
                roles=[get_role(session, role)],
            )
        )


def make_client(server: LiveServer, username: str | None) -> httpx.Client:
    """A client of ``server`` sending Basic auth as ``username`` (None: no credentials)."""
    auth = (username, PASSWORD) if username else None
    return httpx.Client(base_url=server.url, auth=auth, timeout=30)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yields its ``/api/v1`` URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # uvicorn sets TCP_NODELAY only on sockets it binds itself; without it, Nagle and
    # delayed ACKs add ~40 ms to every response.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("The API server did not start")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{port}/api/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
