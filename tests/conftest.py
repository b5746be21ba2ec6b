"""Fixtures shared by every test that needs the metadata database.

A test asking for any of them runs once per backend, ``[sqlite]`` and ``[postgresql]``
(restrict with ``TRADEWIND_TEST_BACKENDS=sqlite``), and is marked ``db`` automatically::

    @pytest.mark.db
    def test_pool_is_created(session: Session) -> None:
        session.add(PoolRow(name="etl", slots=4))
        session.commit()

Fixtures (per test unless noted):
    backend          ``"sqlite"`` or ``"postgresql"``.
    db_url           a migrated database holding only ``default_pool`` (128 slots).
    engine           an engine on ``db_url`` whose Fernet key is the ``fernet_key`` fixture.
    session_factory  ``tradewind.storage.engine.session_factory(engine)``.
    session          an open session; commit freely, it is closed at the end.
    settings         ``Settings`` under ``tmp_path`` pointing at ``db_url``, same Fernet key.
    empty_db_url     a database that was never migrated, for migration tests.

Isolation, fast enough for hundreds of tests: SQLite tests each get a copy of a template
file migrated once per session. PostgreSQL tests share one database per session (per
xdist worker), created from ``TRADEWIND_TEST_POSTGRES_URL`` and migrated once; every
table is emptied and ``default_pool`` re-created before each test, and the database is
dropped at the end. An unreachable PostgreSQL skips its tests, or fails them when
``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import DatabaseSettings, Settings, generate_fernet_key, load_settings
from tradewind.storage import database
from tradewind.storage.engine import create_engine_from_settings
from tradewind.storage.engine import session_factory as make_session_factory
from tradewind.storage.tables import DEFAULT_POOL_NAME, Base

#: The Fernet key of every test engine and ``settings`` fixture.
TEST_FERNET_KEY = generate_fernet_key()
POSTGRES_URL = os.environ.get(
    "TRADEWIND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = [
    name.strip()
    for name in os.environ.get("TRADEWIND_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if name.strip()
]
_DB_FIXTURES = {"backend", "db_url", "engine", "session_factory", "session", "empty_db_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def make_engine(url: str) -> Engine:
    """An engine as production builds it, with the test Fernet key."""
    return create_engine_from_settings(
        DatabaseSettings(sql_alchemy_conn=url), fernet_key=TEST_FERNET_KEY
    )


class _Postgres:
    """Creates and drops the databases of this test session on the server under test."""

    def __init__(self, url: str) -> None:
        self.url: URL = make_url(url).set(drivername="postgresql+psycopg")
        self.admin = sa.create_engine(
            self.url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
        )
        self.prefix = f"tw_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"

    def unreachable_reason(self) -> str | None:
        try:
            with self.admin.connect():
                return None
        except sa.exc.OperationalError as exc:
            first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            return f"PostgreSQL at {self.url.render_as_string()} is unreachable: {first}"

    def create(self, suffix: str) -> str:
        name = f"{self.prefix}_{suffix}"
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _postgres() -> Iterator[_Postgres]:
    server = _Postgres(POSTGRES_URL)
    yield server
    server.admin.dispose()


@pytest.fixture(scope="session")
def _postgres_engine(_postgres: _Postgres) -> Iterator[Engine | str]:
    """The session's migrated PostgreSQL engine, or why PostgreSQL cannot be used."""
    reason = _postgres.unreachable_reason()
    if reason is not None:
        yield reason
        return
    url = _postgres.create("main")
    engine = make_engine(url)
    database.migrate(engine)
    yield engine
    engine.dispose()
    _postgres.drop(url)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "tradewind.db"
    engine = make_engine(f"sqlite:///{path}")
    database.migrate(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        found = request.getfixturevalue("_postgres_engine")
        if isinstance(found, str):
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"{found} (CI=true: PostgreSQL is required)")
            pytest.skip(found)
    return str(request.param)


@pytest.fixture
def engine(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if backend == "postgresql":
        shared: Engine = request.getfixturevalue("_postgres_engine")
        _empty_tables(shared)
        yield shared
        return
    path = tmp_path / "tradewind.db"
    shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
    per_test = make_engine(f"sqlite:///{path}")
    yield per_test
    per_test.dispose()


def _empty_tables(engine: Engine) -> None:
    """Delete every row and re-create default_pool, in one round trip (about 1 ms).

    DELETE rather than TRUNCATE, which costs ~200 ms for 30 tables. Identity sequences are
    not reset: tests must not depend on id values.
    """
    deletes = "; ".join(
        f'DELETE FROM "{table.name}"' for table in reversed(Base.metadata.sorted_tables)
    )
    insert_default_pool = (
        "INSERT INTO slot_pool (name, slots, description, include_deferred) "
        f"VALUES ('{DEFAULT_POOL_NAME}', {database.DEFAULT_POOL_SLOTS}, 'Default pool', false)"
    )
    with engine.begin() as connection:
        connection.exec_driver_sql(f"{deletes}; {insert_default_pool}")


@pytest.fixture
def fernet_key() -> str:
    """The Fernet key of ``engine`` and ``settings``: :data:`TEST_FERNET_KEY`."""
    return TEST_FERNET_KEY


@pytest.fixture
def db_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as opened:
        yield opened


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        environ={
            "TRADEWIND__DATABASE__SQL_ALCHEMY_CONN": db_url,
            "TRADEWIND__CORE__LOAD_EXAMPLES": "False",
            "TRADEWIND__CORE__FERNET_KEY": TEST_FERNET_KEY,
        },
        home=tmp_path,
    )


@pytest.fixture
def empty_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty' / 'tradewind.db'}"
        return
    server: _Postgres = request.getfixturevalue("_postgres")
    url = server.create(f"e{uuid.uuid4().hex[:6]}")
    yield url
    server.drop(url)
