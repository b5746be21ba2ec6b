"""The template ``var`` and ``conn`` of a task, read from the metadata database.

Each lookup opens its own short read-only session, so a task that reads one
Variable does not hold a connection for its whole run. The lookups themselves are
:mod:`tradewind.execution.accessors`'; a worker also answers its task processes'
requests with :func:`fetch_variable` and :func:`fetch_connection`.
"""

from __future__ import annotations

import functools

from sqlalchemy.orm import Session, sessionmaker

from tradewind.execution.accessors import ConnectionAccessor, VariableAccessor
from tradewind.sdk.context import TemplateConnection
from tradewind.storage.repositories.connections import get_connection
from tradewind.storage.repositories.variables import get_variable_value


def fetch_variable(sessions: sessionmaker[Session], key: str) -> str | None:
    """The Variable's stored text (decrypted), or None."""
    with sessions() as session:
        return get_variable_value(session, key)


def fetch_connection(sessions: sessionmaker[Session], conn_id: str) -> TemplateConnection | None:
    """The Connection as templates see it (password decrypted), or None."""
    with sessions() as session:
        row = get_connection(session, conn_id)
        if row is None:
            return None
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


class DatabaseVariableAccessor(VariableAccessor):
    """``{{ var.value.key }}`` and ``{{ var.json.key }}`` backed by the ``variable`` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        super().__init__(functools.partial(fetch_variable, sessions))


class DatabaseConnectionAccessor(ConnectionAccessor):
    """``{{ conn.my_db.host }}`` and ``conn.get("my_db")`` backed by the ``connection`` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        super().__init__(functools.partial(fetch_connection, sessions))
