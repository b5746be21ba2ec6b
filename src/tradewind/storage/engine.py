"""Engines, sessions and the one way to open a transaction.

Two backends are supported. SQLite, for a laptop or ``standalone``: WAL journal (readers
never block the writer), ``foreign_keys=ON`` (SQLite ignores foreign keys otherwise) and a
busy timeout so concurrent processes queue for the write lock instead of failing. And
PostgreSQL through psycopg 3, for HA schedulers and remote workers.

SQLite transactions are taken over from the ``sqlite3`` module, which by default neither
wraps DDL in a transaction nor supports SAVEPOINT: Tradewind emits ``BEGIN`` itself (the
recipe from SQLAlchemy's SQLite dialect docs). A transaction that will write after reading
may ask for ``BEGIN IMMEDIATE`` with ``transaction(factory, sqlite_begin="IMMEDIATE")``:
it then waits for the write lock up front instead of failing halfway with "database is
locked".
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import DatabaseSettings
from tradewind.errors import DatabaseError
from tradewind.storage import sqlite_write_queue as write_queue
from tradewind.storage.fernet import FernetVault, attach_vault
from tradewind.storage.idle_ping import ping_when_idle

#: URL schemes accepted as PostgreSQL; each is rewritten to the psycopg 3 driver.
_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+psycopg"})
_SQLITE_SCHEMES = frozenset({"sqlite", "sqlite+pysqlite"})
_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})
#: First and longest pause (seconds) between two attempts at SQLite's write lock.
_MIN_LOCK_POLL = 0.0001
_MAX_LOCK_POLL = 0.002


def parse_database_url(raw: str) -> URL:
    """The SQLAlchemy URL Tradewind will use for ``raw``.

    Raises:
        DatabaseError: the URL is malformed or names an unsupported database.
    """
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise DatabaseError(
            "Invalid [database] sql_alchemy_conn: expected a URL such as "
            "sqlite:////path/tradewind.db or postgresql+psycopg://user@host/db"
        ) from exc
    scheme = url.drivername
    if scheme in _POSTGRES_SCHEMES:
        return url.set(drivername="postgresql+psycopg")
    if scheme in _SQLITE_SCHEMES:
        return url.set(drivername="sqlite")
    raise DatabaseError(
        f"Unsupported database URL scheme '{scheme}' in [database] sql_alchemy_conn: "
        "Tradewind supports sqlite:/// and postgresql+psycopg:// (or postgresql://)"
    )


def display_url(url: URL) -> str:
    """The URL as shown in messages: never with its password."""
    return url.render_as_string(hide_password=True)


def create_engine_from_settings(db: DatabaseSettings, *, fernet_key: str | None = None) -> Engine:
    """Build the engine for ``[database]``; nothing connects until first use.

    Args:
        db: the ``[database]`` section.
        fernet_key: ``[core] fernet_key`` for encrypted columns ("" stores them in plain
            text). ``None`` attaches no key: encrypted columns then raise DatabaseError,
            which suits commands such as ``db migrate`` that never touch secrets.

    Raises:
        DatabaseError: unsupported or malformed URL.
        ConfigError: malformed ``fernet_key``.
    """
    url = parse_database_url(db.sql_alchemy_conn)
    if url.get_backend_name() == "sqlite":
        engine = _create_sqlite_engine(url, db)
    else:
        engine = sa.create_engine(
            url,
            pool_size=db.sql_alchemy_pool_size,
            max_overflow=db.sql_alchemy_max_overflow,
            pool_recycle=db.sql_alchemy_pool_recycle,
        )
        if db.sql_alchemy_pool_pre_ping:
            ping_when_idle(engine)
    if fernet_key is not None:
        attach_vault(engine, FernetVault(fernet_key))
    return engine


def _create_sqlite_engine(url: URL, db: DatabaseSettings) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"connect_args": {"timeout": db.sqlite_busy_timeout}}
    queue_path = None if in_memory else f"{Path(database).expanduser()}.tradewind-lock"
    if not in_memory:
        options["pool_size"] = db.sql_alchemy_pool_size
        options["max_overflow"] = db.sql_alchemy_max_overflow
    engine = sa.create_engine(url, **options)
    if not in_memory and db.sql_alchemy_pool_pre_ping:
        ping_when_idle(engine)
    busy_ms = int(db.sqlite_busy_timeout * 1000)

    @event.listens_for(engine, "do_connect")
    def _on_do_connect(_dialect: Any, _record: Any, _args: Any, kwargs: dict[str, Any]) -> None:
        # Only a process that queues pays for a connection class that can leave the queue.
        if queue_path is not None and write_queue.queues_here():
            kwargs["factory"] = write_queue.QueuedConnection

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level; _on_begin below emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                # Safe with WAL: a crash may lose the last commits, never corrupt the file.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = str(connection.get_execution_options().get("sqlite_begin", "DEFERRED")).upper()
        if mode not in _BEGIN_MODES:
            raise ValueError(f"sqlite_begin must be one of {sorted(_BEGIN_MODES)}, got {mode!r}")
        if mode == "DEFERRED":  # takes no lock: nothing to wait for
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        dbapi_connection = connection.connection.driver_connection
        started = time.monotonic()
        queued = None
        if (
            isinstance(dbapi_connection, write_queue.QueuedConnection)
            and queue_path
            and write_queue.queues_here()  # SIGALRM bounds the wait: main thread only
        ):
            queued = dbapi_connection
            write_queue.wait_turn(queued, queue_path, db.sqlite_busy_timeout)
        try:
            left = db.sqlite_busy_timeout - (time.monotonic() - started)
            _begin_writing(dbapi_connection, mode, left)
        except BaseException:
            if queued is not None:
                queued.rollback()  # no transaction to end: this leaves the queue
            raise

    return engine


def _begin_writing(dbapi_connection: Any, mode: str, timeout: float) -> None:
    """``BEGIN IMMEDIATE|EXCLUSIVE``, polling for the write lock every fraction of a ms.

    Why not SQLite's busy timeout: its handler sleeps 1, 2, 5, 10, 15, 20, 25 ... ms
    between attempts, so a worker that finds the scheduler's 2 ms tick holding the lock
    typically waits 4 to 10 ms, and 20 ms is common. Polling from 0.1 ms (doubling to
    :data:`_MAX_LOCK_POLL`) takes the lock within a fraction of a millisecond of its
    release. Raises "database is locked" after ``timeout`` seconds, as the busy
    timeout would.
    """
    busy_ms = int(timeout * 1000)
    deadline = time.monotonic() + timeout
    delay = _MIN_LOCK_POLL
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_connection.execute(f"BEGIN {mode}")
                return
            except sqlite3.OperationalError as exc:
                busy = getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, _MAX_LOCK_POLL)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={busy_ms}")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``.

    ``expire_on_commit=False``: rows stay readable after the transaction that loaded them
    ends (a CLI command prints them, the scheduler logs them) without a surprise query.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(
    factory: sessionmaker[Session], *, sqlite_begin: str | None = None
) -> Iterator[Session]:
    """Open a session in a transaction: commit when the block succeeds, roll back otherwise.

    The one way CLI commands, the scheduler tick and API requests open a transaction;
    everything below them takes the session as an argument and never commits.

    Args:
        factory: from :func:`session_factory`.
        sqlite_begin: ``"IMMEDIATE"`` takes SQLite's write lock at the start (ignored on
            PostgreSQL); use it for read-then-write transactions such as a scheduler tick.
    """
    with factory() as session, session.begin():
        if sqlite_begin is not None and session.get_bind().dialect.name == "sqlite":
            # Before any statement: the first connection of the transaction emits BEGIN.
            session.connection(execution_options={"sqlite_begin": sqlite_begin})
        yield session
