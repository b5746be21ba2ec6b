"""``tradewind rotate-fernet-key``: data written under key A, rotated with "B,A", is
readable with B alone afterwards; a wrong key leaves everything unchanged."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import Result
from security_cli_support import invoke, isolated_environment
from sqlalchemy.engine import Engine

from tradewind.config import Settings, generate_fernet_key
from tradewind.storage.engine import create_engine_from_settings, session_factory, transaction
from tradewind.storage.tables import ConnectionRow, TriggerRow, VariableRow

pytestmark = pytest.mark.db
__all__ = ["isolated_environment"]


def rotate(settings: Settings) -> Result:
    return invoke(settings, "rotate-fernet-key")


def engine_with(settings: Settings, key: str) -> Engine:
    return create_engine_from_settings(settings.database, fernet_key=key)


def write_secrets(engine: Engine) -> None:
    with transaction(session_factory(engine)) as session:
        session.add(ConnectionRow(conn_id="db", conn_type="postgres", password="pw", extra="{}"))
        session.add(ConnectionRow(conn_id="bare", conn_type="http"))
        session.add(VariableRow(key="token", val="v4lue"))
        session.add(TriggerRow(classpath="x.Trigger", kwargs={"secret": 1}))


def read_secrets(engine: Engine) -> tuple[object, ...]:
    with transaction(session_factory(engine)) as session:
        conn = session.scalar(sa.select(ConnectionRow).where(ConnectionRow.conn_id == "db"))
        var = session.scalar(sa.select(VariableRow))
        trigger = session.scalar(sa.select(TriggerRow))
        assert conn is not None and var is not None and trigger is not None
        return conn.password, conn.extra, var.val, trigger.kwargs


def test_rotation_moves_every_secret_to_the_new_key(
    settings: Settings, engine: Engine, fernet_key: str
) -> None:
    write_secrets(engine)  # the test engine encrypts with key A (fernet_key)
    new_key = generate_fernet_key()

    result = rotate(settings.replace("core", fernet_key=f"{new_key},{fernet_key}"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Re-encrypted 4 value(s) with the first key")

    only_new = engine_with(settings, new_key)
    try:
        assert read_secrets(only_new) == ("pw", "{}", "v4lue", {"secret": 1})
    finally:
        only_new.dispose()


def test_plaintext_written_without_a_key_gets_encrypted(settings: Settings) -> None:
    no_key = engine_with(settings, "")
    try:
        write_secrets(no_key)
    finally:
        no_key.dispose()
    key = generate_fernet_key()
    assert rotate(settings.replace("core", fernet_key=key)).exit_code == 0
    keyed = engine_with(settings, key)
    try:
        assert read_secrets(keyed) == ("pw", "{}", "v4lue", {"secret": 1})
        with keyed.connect() as connection:
            stored = connection.execute(sa.text("SELECT val, is_encrypted FROM variable")).one()
        assert stored[0] != "v4lue" and stored[1]
    finally:
        keyed.dispose()


def test_a_key_that_opens_nothing_changes_nothing(
    settings: Settings, engine: Engine, fernet_key: str
) -> None:
    write_secrets(engine)
    unrelated = generate_fernet_key()
    result = rotate(settings.replace("core", fernet_key=unrelated))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: A stored secret cannot be decrypted")
    assert read_secrets(engine) == ("pw", "{}", "v4lue", {"secret": 1})

    empty = rotate(settings.replace("core", fernet_key=""))
    assert empty.exit_code == 1 and "fernet_key is empty" in empty.stderr
