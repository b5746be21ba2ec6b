"""Schema lifecycle on every backend: migrate, reset, check, and models == migrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from tradewind.config import DatabaseSettings
from tradewind.errors import DatabaseError
from tradewind.storage import database
from tradewind.storage.engine import create_engine_from_settings
from tradewind.storage.tables import Base, PoolRow

pytestmark = pytest.mark.db


@pytest.fixture
def empty_engine(empty_db_url: str) -> Iterator[Engine]:
    engine = create_engine_from_settings(DatabaseSettings(sql_alchemy_conn=empty_db_url))
    yield engine
    engine.dispose()


def _pools(engine: Engine) -> list[tuple[str, int, str | None]]:
    with engine.connect() as connection:
        query = sa.select(PoolRow.name, PoolRow.slots, PoolRow.description)
        return [tuple(row) for row in connection.execute(query)]


def test_migrate_from_empty_creates_every_table_and_default_pool(empty_engine: Engine) -> None:
    database.migrate(empty_engine)

    tables = set(sa.inspect(empty_engine).get_table_names())
    assert set(Base.metadata.tables) | {"alembic_version"} == tables
    assert _pools(empty_engine) == [("default_pool", 128, "Default pool")]
    assert database.current_revision(empty_engine) == database.head_revision()


def test_migrate_twice_changes_nothing(empty_engine: Engine) -> None:
    database.migrate(empty_engine, default_pool_slots=5)
    database.migrate(empty_engine, default_pool_slots=9)

    assert _pools(empty_engine) == [("default_pool", 5, "Default pool")]


def test_models_match_migrated_schema(empty_engine: Engine) -> None:
    database.migrate(empty_engine)

    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_reset_drops_data_and_migrates_again(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.insert(PoolRow).values(name="etl", slots=3, include_deferred=False))

    database.reset(engine, default_pool_slots=4)

    assert _pools(engine) == [("default_pool", 4, "Default pool")]
    database.check(engine)


def test_check_passes_on_a_migrated_database(engine: Engine) -> None:
    database.check(engine)


def test_check_on_an_unmigrated_database_says_to_migrate(empty_engine: Engine) -> None:
    with pytest.raises(DatabaseError, match="not initialized; run: tradewind db migrate"):
        database.check(empty_engine)
    assert database.current_revision(empty_engine) is None


def test_check_on_an_unknown_revision_says_to_upgrade(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    try:
        with pytest.raises(DatabaseError, match="9999_future, unknown to this version"):
            database.check(engine)
    finally:  # PostgreSQL's database is shared by the tests of this session
        with engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE alembic_version SET version_num = :head"),
                {"head": database.head_revision()},
            )


def test_check_on_an_unreachable_server_is_one_line() -> None:
    settings = DatabaseSettings(sql_alchemy_conn="postgresql://postgres@127.0.0.1:1/nowhere")
    engine = create_engine_from_settings(settings)
    try:
        with pytest.raises(DatabaseError) as raised:
            database.check(engine)
    finally:
        engine.dispose()

    message = str(raised.value)
    assert message.startswith("Cannot use the metadata database at postgresql+psycopg://")
    assert "\n" not in message


def test_downgrade_to_base_drops_every_table(empty_engine: Engine) -> None:
    database.migrate(empty_engine)

    with empty_engine.begin() as connection:
        command.downgrade(database.alembic_config(connection), "base")

    assert set(sa.inspect(empty_engine).get_table_names()) == {"alembic_version"}


def test_check_on_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a SQLite database, not even close" * 100)
    engine = create_engine_from_settings(DatabaseSettings(sql_alchemy_conn=f"sqlite:///{path}"))
    try:
        with pytest.raises(DatabaseError, match="^Cannot use the metadata database at sqlite"):
            database.check(engine)
    finally:
        engine.dispose()
