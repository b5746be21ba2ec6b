"""A live API server per test, on the test's database, and HTTP clients per role.

The server is the real application (``create_api_app``) under uvicorn on a free
loopback port, so tests send real HTTP requests through the whole stack: the
authentication middleware, FastAPI's parsing, the routes and the database.
Helpers live in ``api_support.py``.

Fixtures:
    api_settings   ``settings`` with ``api_support.ALL_BACKENDS`` enabled, DAGs read
                   from ``dags_folder``, no example DAGs.
    api_server     the running server (``api_support.LiveServer``); the test users exist.
    client         an ``httpx.Client`` logged in as ``admin`` (Basic auth).
    client_as      ``client_as("viewer")``: a client logged in as another user.
    anonymous      a client sending no credentials.
    dags_folder    the folder ``api_settings`` parses DAG files from.
    add_dag_file   ``add_dag_file("etl.py", source)``: write a DAG file and store its
                   DAGs as the DAG processor does (real parsing in a child process).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from api_support import ALL_BACKENDS, LiveServer, create_users, make_client, serve
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.api.app import create_api_app, prepare_database
from tradewind.config import Settings
from tradewind.dag_processing.processor import DagFileProcessor
from tradewind.storage.engine import transaction


@pytest.fixture
def dags_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def api_settings(settings: Settings, dags_folder: Path) -> Settings:
    return settings.replace("api", auth_backends=ALL_BACKENDS).replace(
        "core", dags_folder=dags_folder, load_examples=False
    )


@pytest.fixture
def api_server(
    api_settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[LiveServer]:
    prepare_database(engine)
    with transaction(session_factory) as session:
        create_users(session)
    with serve(create_api_app(api_settings, engine=engine)) as url:
        yield LiveServer(url, api_settings, engine)


@pytest.fixture
def client(api_server: LiveServer) -> Iterator[httpx.Client]:
    with make_client(api_server, "admin") as opened:
        yield opened


@pytest.fixture
def client_as(api_server: LiveServer) -> Iterator[Callable[[str], httpx.Client]]:
    opened: list[httpx.Client] = []

    def make(username: str) -> httpx.Client:
        opened.append(make_client(api_server, username))
        return opened[-1]

    yield make
    for each in opened:
        each.close()


@pytest.fixture
def anonymous(api_server: LiveServer) -> Iterator[httpx.Client]:
    with make_client(api_server, None) as opened:
        yield opened


@pytest.fixture
def add_dag_file(
    api_settings: Settings, dags_folder: Path, session_factory: sessionmaker[Session]
) -> Callable[[str, str], None]:
    processor = DagFileProcessor(
        api_settings.core,
        api_settings.scheduler,
        session_factory,
        clock=lambda: datetime.now(UTC),
    )

    def add(name: str, source: str) -> None:
        (dags_folder / name).write_text(textwrap.dedent(source))
        processor.process_folder_once()

    return add
