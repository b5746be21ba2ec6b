"""Secrets are Fernet tokens at rest, readable after a key rotation."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tradewind.config import DatabaseSettings, generate_fernet_key
from tradewind.errors import ConfigError, DatabaseError
from tradewind.storage.engine import create_engine_from_settings, session_factory
from tradewind.storage.fernet import FernetVault, looks_encrypted
from tradewind.storage.tables import ConnectionRow, TriggerRow, VariableRow

pytestmark = pytest.mark.db

OpenSession = Callable[[str | None], Session]


@pytest.fixture
def with_key(db_url: str) -> Iterator[OpenSession]:
    """Open sessions on the test database through engines holding other keys."""
    engines: list[Engine] = []

    def open_session(fernet_key: str | None) -> Session:
        engine = create_engine_from_settings(
            DatabaseSettings(sql_alchemy_conn=db_url), fernet_key=fernet_key
        )
        engines.append(engine)
        return session_factory(engine)()

    yield open_session
    for engine in engines:
        engine.dispose()


def _raw(session: Session, sql: str) -> tuple[object, ...]:
    row = session.execute(sa.text(sql)).one()
    return tuple(row)


def test_connection_password_and_extra_are_encrypted_at_rest(
    session: Session, fernet_key: str
) -> None:
    session.add(
        ConnectionRow(conn_id="db", conn_type="postgres", password="hunter2", extra='{"a": 1}')
    )
    session.commit()

    password, extra, flag, extra_flag = _raw(
        session, "SELECT password, extra, is_encrypted, is_extra_encrypted FROM connection"
    )
    assert "hunter2" not in str(password) and looks_encrypted(str(password))
    assert '"a"' not in str(extra)
    assert bool(flag) and bool(extra_flag)
    fernet = Fernet(fernet_key.encode())
    assert fernet.decrypt(str(password).encode()) == b"hunter2"

    session.expire_all()
    loaded = session.scalar(sa.select(ConnectionRow))
    assert loaded is not None and (loaded.password, loaded.extra) == ("hunter2", '{"a": 1}')


def test_variable_and_trigger_kwargs_are_encrypted_at_rest(session: Session) -> None:
    session.add(VariableRow(key="token", val="s3cr3t"))
    session.add(TriggerRow(classpath="t.T", kwargs={"api_key": "s3cr3t"}))
    session.commit()

    assert "s3cr3t" not in str(_raw(session, "SELECT val FROM variable")[0])
    assert "s3cr3t" not in str(_raw(session, 'SELECT kwargs FROM "trigger"')[0])
    session.expire_all()
    assert session.scalar(sa.select(TriggerRow.kwargs)) == {"api_key": "s3cr3t"}


def test_rotated_keys_read_old_values_and_rotate_them(
    with_key: OpenSession, fernet_key: str
) -> None:
    old_key, new_key = fernet_key, generate_fernet_key()
    with with_key(old_key) as session:
        session.add(VariableRow(key="v", val="before rotation"))
        session.commit()

    with with_key(f"{new_key},{old_key}") as session:
        variable = session.scalar(sa.select(VariableRow))
        assert variable is not None and variable.val == "before rotation"
        variable.val = "after rotation"
        session.commit()
        stored = str(_raw(session, "SELECT val FROM variable")[0])

    rotated = MultiFernet([Fernet(new_key.encode()), Fernet(old_key.encode())])
    assert rotated.decrypt(stored.encode()) == b"after rotation"
    with pytest.raises(DatabaseError, match="cannot be decrypted"), with_key(old_key) as session:
        session.scalar(sa.select(VariableRow.val))


def test_empty_key_stores_plaintext_and_warns(
    with_key: OpenSession, fernet_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tradewind.storage.fernet"):
        session = with_key("")
    assert "fernet_key is empty" in caplog.text
    with session:
        session.add(VariableRow(key="plain", val="visible"))
        session.commit()
        assert _raw(session, "SELECT val, is_encrypted FROM variable") in {
            ("visible", False),
            ("visible", 0),
        }

    # Enabling a key later keeps plaintext rows readable.
    with with_key(fernet_key) as session:
        assert session.scalar(sa.select(VariableRow.val)) == "visible"


def test_engine_without_key_refuses_encrypted_columns(with_key: OpenSession) -> None:
    with with_key(None) as session:
        session.add(VariableRow(key="k", val="v"))
        with pytest.raises(sa.exc.StatementError) as raised:
            session.flush()
    assert isinstance(raised.value.orig, DatabaseError)
    assert "no Fernet key" in str(raised.value.orig)


def test_invalid_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="fernet_key is invalid"):
        FernetVault("not-a-key")
