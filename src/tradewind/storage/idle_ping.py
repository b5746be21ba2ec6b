"""Test a pooled connection before use only when it has sat idle, not on every checkout.

SQLAlchemy's ``pool_pre_ping`` sends a ping (``SELECT 1``, or ``;`` on psycopg) at each
checkout. On PostgreSQL that is a network round trip per transaction: a worker runs
two short transactions per try, so two of its dozen round trips per try were pings of
a connection it had used a few milliseconds before. What the ping is for, a connection
that died while it sat in the pool (the server restarted, a firewall dropped it), needs
the connection to have sat there; so :func:`ping_when_idle` pings only a connection
idle for longer than a threshold.

A connection that dies within the threshold fails its first statement instead, with a
``DBAPIError`` whose ``connection_invalidated`` is set; SQLAlchemy then invalidates the
whole pool, so the next checkout connects afresh. The callers that must not lose work
to that (a worker's claim and record) retry once on exactly that error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: Seconds a connection may sit in the pool and still be used without a ping.
IDLE_BEFORE_PING = 1.0

_IDLE_SINCE = "tradewind_idle_since"


def ping_when_idle(engine: Engine, *, idle_seconds: float = IDLE_BEFORE_PING) -> None:
    """Ping a connection at checkout when it was checked in more than ``idle_seconds`` ago.

    A failed ping raises ``InvalidatePoolError``: the pool drops every connection made
    before it and checks out a new one, as ``pool_pre_ping`` does.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since <= idle_seconds:
            return  # new, or used a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            raise exc.InvalidatePoolError(f"ping after {idle_seconds} s idle failed") from error


def once_more_if_disconnected(call: Callable[[], _T]) -> _T:
    """``call()``, and once more if it failed because its connection had died.

    Only for calls that are safe to repeat: a guarded transition whose first attempt
    either committed (the second then finds the guard failed) or rolled back.
    """
    try:
        return call()
    except exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
        logger.warning("Database connection lost (%s); trying once more", error.orig)
        return call()
