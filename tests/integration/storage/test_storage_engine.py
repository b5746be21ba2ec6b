"""Engine construction: URL schemes, SQLite pragmas, and the transaction helper."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import DatabaseSettings
from tradewind.errors import DatabaseError
from tradewind.storage.engine import (
    create_engine_from_settings,
    parse_database_url,
    transaction,
)
from tradewind.storage.tables import PoolRow


@pytest.mark.parametrize(
    ("raw", "driver"),
    [
        ("postgres://u:p@db/tw", "postgresql+psycopg"),
        ("postgresql://u@db/tw", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db/tw", "postgresql+psycopg"),
        ("sqlite:////tmp/tw.db", "sqlite"),
    ],
)
def test_supported_urls_are_rewritten_to_their_driver(raw: str, driver: str) -> None:
    assert parse_database_url(raw).drivername == driver


def test_unsupported_scheme_is_one_clear_line() -> None:
    with pytest.raises(DatabaseError, match="^Unsupported database URL scheme 'mysql'"):
        parse_database_url("mysql://root:secret@localhost/tw")


def test_malformed_url_does_not_echo_it() -> None:
    with pytest.raises(DatabaseError, match="Invalid") as raised:
        parse_database_url("not a url with secret")
    assert "secret" not in str(raised.value)


def test_sqlite_file_gets_its_folder_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "tw.db"
    settings = DatabaseSettings(sql_alchemy_conn=f"sqlite:///{path}", sqlite_busy_timeout=7.5)
    engine = create_engine_from_settings(settings)
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 7500
    finally:
        engine.dispose()
    assert path.parent.is_dir()


@pytest.mark.db
def test_foreign_keys_are_enforced(session: Session) -> None:
    from tradewind.storage.tables import DagTagRow

    session.add(DagTagRow(name="x", dag_id="no_such_dag"))
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()


@pytest.mark.db
def test_transaction_commits_on_success(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        session.add(PoolRow(name="committed", slots=1))

    with session_factory() as session:
        assert session.scalar(sa.select(PoolRow.slots).where(PoolRow.name == "committed")) == 1


@pytest.mark.db
def test_transaction_rolls_back_on_error(session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), transaction(session_factory) as session:
        session.add(PoolRow(name="rolled_back", slots=1))
        session.flush()
        raise RuntimeError("boom")

    with session_factory() as session:
        assert session.scalar(sa.select(PoolRow).where(PoolRow.name == "rolled_back")) is None


@pytest.mark.db
def test_transaction_can_take_the_sqlite_write_lock_first(
    session_factory: sessionmaker[Session], engine: Engine
) -> None:
    with transaction(session_factory, sqlite_begin="IMMEDIATE") as session:
        session.add(PoolRow(name="immediate", slots=2))

    with session_factory() as session:
        assert session.scalar(sa.select(PoolRow.slots).where(PoolRow.name == "immediate")) == 2


@pytest.mark.db
def test_savepoints_work(session: Session) -> None:
    session.add(PoolRow(name="outer", slots=1))
    nested = session.begin_nested()
    session.add(PoolRow(name="inner", slots=1))
    nested.rollback()
    session.commit()

    names = set(session.scalars(sa.select(PoolRow.name)))
    assert names == {"default_pool", "outer"}
