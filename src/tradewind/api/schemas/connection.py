"""``Connection``, ``ConnectionCollection`` and ``ConnectionTest``.

A connection's password is write-only: no response carries it. Its ``extra`` is returned
with the values of sensitive keys (``password``, ``token``, ...) replaced by ``***``, as
Airflow's ``redact`` does; an extra that is not JSON cannot be searched for keys and is
returned as it is.

The spec's field ``schema`` is ``schema_`` here (pydantic's ``BaseModel`` has a
``schema`` attribute); on the wire it is ``schema``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from tradewind.api.schemas.base import RequestBody, ResponseBody
from tradewind.errors import InvalidInput
from tradewind.security.sensitive import redact
from tradewind.storage.pagination import Page
from tradewind.storage.tables import ConnectionRow

#: Longest ``conn_type``, ``host`` and ``schema`` the columns hold (characters).
COLUMN_LENGTH = 500

#: API field name -> ``ConnectionRow`` column, where they differ (``order_by``, changes).
COLUMNS = {"connection_id": "conn_id"}


class ConnectionCollectionItem(ResponseBody):
    connection_id: str
    conn_type: str
    description: str | None
    host: str | None
    login: str | None
    schema_: str | None = Field(alias="schema")
    port: int | None

    @classmethod
    def fields_of(cls, row: ConnectionRow) -> dict[str, Any]:
        return {
            "connection_id": row.conn_id,
            "conn_type": row.conn_type,
            "description": row.description,
            "host": row.host,
            "login": row.login,
            "schema": row.schema,
            "port": row.port,
        }


class Connection(ConnectionCollectionItem):
    extra: str | None

    @classmethod
    def from_row(cls, row: ConnectionRow) -> Connection:
        return cls(**cls.fields_of(row), extra=masked_extra(row.extra))


class ConnectionCollection(ResponseBody):
    connections: list[ConnectionCollectionItem]
    total_entries: int

    @classmethod
    def from_page(cls, page: Page[ConnectionRow]) -> ConnectionCollection:
        return cls(
            connections=[
                ConnectionCollectionItem(**ConnectionCollectionItem.fields_of(row))
                for row in page.items
            ],
            total_entries=page.total_entries,
        )


class ConnectionTest(ResponseBody):
    status: bool
    message: str


class ConnectionBody(RequestBody):
    """POST, PATCH and test bodies: the spec's ``Connection``, password included."""

    connection_id: str | None = None
    conn_type: str | None = Field(default=None, max_length=COLUMN_LENGTH)
    description: str | None = None
    host: str | None = Field(default=None, max_length=COLUMN_LENGTH)
    login: str | None = None
    schema_: str | None = Field(default=None, alias="schema", max_length=COLUMN_LENGTH)
    port: int | None = Field(default=None, ge=0, le=65535)
    password: str | None = None
    extra: str | None = None

    def columns(self) -> dict[str, Any]:
        """Every field as ``ConnectionRow`` columns (for a new row)."""
        return {_column(name): getattr(self, name) for name in type(self).model_fields}

    def changes(self, update_mask: list[str] | None) -> dict[str, Any]:
        """The columns a PATCH changes: the masked fields, or those the body sets.

        Raises:
            InvalidInput: the mask names ``connection_id`` or an unknown field, or a
                change would make ``conn_type`` null.
        """
        fields = type(self).model_fields
        if update_mask is None:
            wanted = [name for name in self.model_fields_set if name != "connection_id"]
        else:
            by_wire_name = {field.alias or name: name for name, field in fields.items()}
            for name in update_mask:
                if by_wire_name.get(name) in (None, "connection_id"):
                    raise InvalidInput(f"'{name}' is unknown or cannot be updated.")
            wanted = [by_wire_name[name] for name in update_mask]
        changes = {_column(name): getattr(self, name) for name in wanted}
        if "conn_type" in changes and changes["conn_type"] is None:
            raise InvalidInput("conn_type cannot be null")
        return changes


def masked_extra(extra: str | None) -> str | None:
    """``extra`` with the values of its sensitive JSON keys replaced by ``***``."""
    if extra is None:
        return None
    try:
        decoded = json.loads(extra)
    except ValueError:
        return extra
    return json.dumps(redact(decoded))


def _column(field_name: str) -> str:
    name = field_name.removesuffix("_")
    return COLUMNS.get(name, name)
