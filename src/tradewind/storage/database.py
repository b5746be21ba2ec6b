"""Schema lifecycle: migrate, reset, check, and the current revision.

Migrations are Alembic revisions under ``migrations/versions``, run in-process: users
never need alembic.ini. ``migrate`` is safe to run at every start and from several
processes at once: on PostgreSQL it holds an advisory lock for the whole upgrade, and it
runs in one transaction on both backends (see ``engine`` for SQLite's transactional DDL).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from tradewind.errors import DatabaseError
from tradewind.storage.engine import display_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Slots of ``default_pool`` when the first migration creates it (``[core]
#: default_pool_task_slot_count``).
DEFAULT_POOL_SLOTS = 128
#: Key of the PostgreSQL advisory lock serialising concurrent ``migrate`` calls.
_MIGRATION_LOCK_KEY = 0x7472_6164_6577  # "tradew"
_VERSION_TABLE = "alembic_version"


def alembic_config(connection: Connection | None = None, **attributes: object) -> Config:
    """An Alembic config pointing at Tradewind's migrations, bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    config.attributes.update(attributes)
    return config


def head_revision() -> str:
    """The newest revision this version of Tradewind knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships 0001_initial
        raise DatabaseError("Tradewind ships no database migrations")
    return head


def migrate(engine: Engine, default_pool_slots: int = DEFAULT_POOL_SLOTS) -> None:
    """Upgrade the schema to the newest revision; nothing happens if it is there already.

    Args:
        engine: the metadata database.
        default_pool_slots: slots of ``default_pool`` if this run creates it.

    Raises:
        DatabaseError: the database is unreachable.
    """
    with _connect(engine) as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
        config = alembic_config(connection, default_pool_slots=default_pool_slots)
        command.upgrade(config, "head")


def reset(engine: Engine, default_pool_slots: int = DEFAULT_POOL_SLOTS) -> None:
    """Drop every table (Tradewind's, ``alembic_version`` and any other), then migrate.

    Destroys all data. Raises DatabaseError when the database is unreachable.
    """
    with _connect(engine) as connection, connection.begin():
        existing = sa.MetaData()
        existing.reflect(bind=connection)
        existing.drop_all(bind=connection)
    migrate(engine, default_pool_slots)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it was never migrated.

    Raises:
        DatabaseError: the database is unreachable.
    """
    with _connect(engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check(engine: Engine) -> None:
    """Raise DatabaseError, with one line saying what to do, unless the schema is current."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    where = display_url(engine.url)
    if current is None:
        raise DatabaseError(
            f"The metadata database at {where} is not initialized; run: tradewind db migrate"
        )
    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if current not in known:
        raise DatabaseError(
            f"The metadata database at {where} is at revision {current}, unknown to this "
            f"version of Tradewind (newest known: {head}); upgrade Tradewind"
        )
    raise DatabaseError(
        f"The metadata database at {where} is at revision {current}, but {head} is needed; "
        "run: tradewind db migrate"
    )


@contextmanager
def _connect(engine: Engine) -> Iterator[Connection]:
    """A connection, with failures to use the database turned into one-line DatabaseErrors.

    Any driver error while connecting (refused, authentication, "file is not a database")
    counts; inside the block only OperationalErrors do (a dropped connection, a locked
    SQLite file), so a failing migration statement keeps its own error.
    """
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        raise _unusable(engine, exc) from exc
    try:
        with connection:
            yield connection
    except OperationalError as exc:
        raise _unusable(engine, exc) from exc


def _unusable(engine: Engine, exc: DBAPIError) -> DatabaseError:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    return DatabaseError(f"Cannot use the metadata database at {display_url(engine.url)}: {reason}")
