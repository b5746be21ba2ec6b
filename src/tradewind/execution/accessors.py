"""The template ``var`` and ``conn`` of a task, over a function that fetches one value.

Where the value comes from is the fetch function's business: the metadata database
in a worker or the CLI (:mod:`tradewind.execution.database_accessors`), the worker
over the task process's pipe (``tradewind.executors.task_channel``). Each lookup
fetches afresh, so a value changed through the API is seen by the next lookup. The
in-memory twins are ``MappingVariableAccessor`` and ``MappingConnectionAccessor`` in
``tradewind.sdk.context``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tradewind.errors import NotFound
from tradewind.sdk.context import TemplateConnection

#: A Variable's stored text by key, or None when there is no such Variable.
VariableFetch = Callable[[str], "str | None"]
#: A Connection by id, or None when there is no such Connection.
ConnectionFetch = Callable[[str], "TemplateConnection | None"]


class _VariableLookup:
    def __init__(self, fetch: VariableFetch, *, decode: bool) -> None:
        self._fetch = fetch
        self._decode = decode

    def get(self, key: str, default: Any = None) -> Any:
        value = self._fetch(key)
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


class VariableAccessor:
    """``{{ var.value.key }}`` and ``{{ var.json.key }}``."""

    def __init__(self, fetch: VariableFetch) -> None:
        self.value = _VariableLookup(fetch, decode=False)
        self.json = _VariableLookup(fetch, decode=True)


class ConnectionAccessor:
    """``{{ conn.my_db.host }}`` and ``conn.get("my_db")``."""

    def __init__(self, fetch: ConnectionFetch) -> None:
        self._fetch = fetch

    def get(self, conn_id: str, default_conn: Any = None) -> Any:
        connection = self._fetch(conn_id)
        return default_conn if connection is None else connection

    def __getattr__(self, conn_id: str) -> Any:
        if conn_id.startswith("_"):
            raise AttributeError(conn_id)
        connection = self.get(conn_id)
        if connection is None:
            raise NotFound(f"The conn_id {conn_id!r} isn't defined")
        return connection
