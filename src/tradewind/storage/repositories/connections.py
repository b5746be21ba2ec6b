"""Connections (API ``/connections``, CLI ``connections``, templates' ``conn``).

Passwords and extras are plaintext here; :class:`~tradewind.storage.fernet.EncryptedText`
encrypts them at rest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import InvalidInput, NotFound
from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate
from tradewind.storage.repositories._queries import order_clauses
from tradewind.storage.repositories._writes import apply_changes, unique_write
from tradewind.storage.tables import ConnectionRow

UPDATABLE = (
    "conn_id",
    "conn_type",
    "description",
    "host",
    "schema",
    "login",
    "password",
    "port",
    "extra",
)


#: Columns ``list_connections`` may order by (Airflow's).
ORDERABLE = ("conn_id", "conn_type", "description", "host", "port", "id")

#: What a new connection id may be made of (Airflow's ``validate_key``), and its length.
_CONN_ID = re.compile(r"^[\w.-]+$")
CONN_ID_MAX_LENGTH = 200


def get_connection(session: Session, conn_id: str) -> ConnectionRow | None:
    return session.scalar(sa.select(ConnectionRow).where(ConnectionRow.conn_id == conn_id))


def require_connection(session: Session, conn_id: str) -> ConnectionRow:
    """Raises NotFound when there is no connection ``conn_id``."""
    connection = get_connection(session, conn_id)
    if connection is None:
        raise NotFound(f"The Connection with connection_id: `{conn_id}` was not found")
    return connection


def list_connections(
    session: Session,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    order_by: str | None = None,
) -> Page[ConnectionRow]:
    """Connections ordered by ``order_by`` (``host`` or ``-port``; by conn_id when None).

    Raises:
        InvalidInput: ``order_by`` names a column not in :data:`ORDERABLE`.
    """
    order = order_clauses(ConnectionRow, order_by or "conn_id", ORDERABLE)
    query = sa.select(ConnectionRow).order_by(*order)
    return paginate(session, query, limit=limit, offset=offset)


def check_conn_id(conn_id: str) -> None:
    """Refuse an id a new connection may not have: only letters, digits, ``-``, ``_``
    and ``.``, at most :data:`CONN_ID_MAX_LENGTH` characters (an id that must also work
    in ``AIRFLOW_CONN_<ID>`` variables and URIs).

    Raises:
        InvalidInput: the id breaks the rule; the message says which part.
    """
    if len(conn_id) > CONN_ID_MAX_LENGTH:
        raise InvalidInput(f"The key has to be less than {CONN_ID_MAX_LENGTH} characters")
    if not _CONN_ID.match(conn_id):
        raise InvalidInput(
            f"The key {conn_id!r} has to be made of alphanumeric characters, dashes, "
            "dots and underscores exclusively"
        )


def create_connection(
    session: Session,
    conn_id: str,
    conn_type: str,
    *,
    description: str | None = None,
    host: str | None = None,
    schema: str | None = None,
    login: str | None = None,
    password: str | None = None,
    port: int | None = None,
    extra: str | None = None,
) -> ConnectionRow:
    """Raises AlreadyExists when ``conn_id`` is taken, InvalidInput when it is empty."""
    if not conn_id or not conn_id.strip():
        raise InvalidInput("A connection needs a non-empty conn_id")
    connection = ConnectionRow(
        conn_id=conn_id,
        conn_type=conn_type,
        description=description,
        host=host,
        schema=schema,
        login=login,
        password=password,
        port=port,
        extra=extra,
    )
    with unique_write(session, f"Connection already exist. ID: {conn_id}"):
        session.add(connection)
    return connection


def update_connection(session: Session, conn_id: str, changes: Mapping[str, Any]) -> ConnectionRow:
    """Apply ``changes`` (fields of :data:`UPDATABLE`). Raises NotFound or InvalidInput."""
    connection = require_connection(session, conn_id)
    with unique_write(session, f"Connection already exist. ID: {changes.get('conn_id', conn_id)}"):
        apply_changes(connection, changes, UPDATABLE)
    return connection


def delete_connection(session: Session, conn_id: str) -> None:
    """Raises NotFound when there is no connection ``conn_id``."""
    session.delete(require_connection(session, conn_id))
    session.flush()
