"""The template ``var`` and ``conn`` of a task, read from the metadata database.

Each lookup opens its own short read-only session, so a task that reads one
Variable does not hold a connection for its whole run, and a value changed
through the API is seen by the next lookup. The in-memory twins are
``MappingVariableAccessor`` and ``MappingConnectionAccessor`` in
``tradewind.sdk.context``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradewind.errors import NotFound
from tradewind.sdk.context import TemplateConnection
from tradewind.storage.repositories.connections import get_connection
from tradewind.storage.repositories.variables import get_variable_value


class _VariableLookup:
    def __init__(self, sessions: sessionmaker[Session], *, decode: bool) -> None:
        self._sessions = sessions
        self._decode = decode

    def get(self, key: str, default: Any = None) -> Any:
        with self._sessions() as session:
            value = get_variable_value(session, key)
        if value is None:
            return default
        return json.loads(value) if self._decode else value

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):  # Jinja and copy probe dunders; they are not Variables.
            raise AttributeError(key)
        missing = object()
        value = self.get(key, missing)
        if value is missing:
            raise NotFound(f"Variable {key!r} does not exist")
        return value


class DatabaseVariableAccessor:
    """``{{ var.value.key }}`` and ``{{ var.json.key }}`` backed by the ``variable`` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.value = _VariableLookup(sessions, decode=False)
        self.json = _VariableLookup(sessions, decode=True)


class DatabaseConnectionAccessor:
    """``{{ conn.my_db.host }}`` and ``conn.get("my_db")`` backed by the ``connection`` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get(self, conn_id: str, default_conn: Any = None) -> Any:
        with self._sessions() as session:
            row = get_connection(session, conn_id)
            if row is None:
                return default_conn
            return TemplateConnection(
                conn_id=row.conn_id,
                conn_type=row.conn_type,
                host=row.host,
                login=row.login,
                password=row.password,
                schema=row.schema,
                port=row.port,
                extra=row.extra,
                description=row.description,
            )

    def __getattr__(self, conn_id: str) -> Any:
        if conn_id.startswith("_"):
            raise AttributeError(conn_id)
        connection = self.get(conn_id)
        if connection is None:
            raise NotFound(f"The conn_id {conn_id!r} isn't defined")
        return connection
