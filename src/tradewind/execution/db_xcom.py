"""XComs in the metadata database: the worker's :class:`~tradewind.execution.memory.XComStore`.

A worker runs each try with a ``LocalTaskInstance`` (the same object ``dags test``
uses, so ``xcom_pull`` has one implementation of Airflow's shapes) whose store is
this one. Every call is its own short transaction: a task that pushes a value and
then sleeps for an hour holds no connection and no lock meanwhile, and a value is
visible to other workers as soon as ``xcom_push`` returns.

Values are JSON (the ``xcom`` table's ``value`` column, what ``/api/v1`` returns).
A value that is not JSON-serialisable fails the push with a ``TypeError`` naming
the key, as Airflow's JSON XCom backend does. "Newest first" is the row id order:
a push deletes the previous value of the same key and inserts a new row. A try's
return value is written by :func:`write_xcoms` with its outcome (see
:mod:`tradewind.execution.try_xcoms`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tradewind.execution.memory import XComEntry
from tradewind.execution.try_xcoms import check_serialisable
from tradewind.storage.engine import transaction
from tradewind.storage.repositories._queries import insert_ignoring_conflicts_in
from tradewind.storage.tables.task_instance import TI_KEY
from tradewind.storage.tables.xcom import XComRow

_X = cast(sa.Table, XComRow.__table__)
_THIS_TI = tuple(_X.c[name] == sa.bindparam(f"p_{name}") for name in TI_KEY)
# Built once: constructing SQLAlchemy expressions costs more than running them on SQLite.
_DELETE_KEY = sa.delete(_X).where(*_THIS_TI, _X.c.key == sa.bindparam("p_key"))
_INSERT = sa.insert(_X)
# A key's first value (nearly every push, and every return value) is one statement: an
# insert that does nothing when the key has a value, which then gets a row of its own.
_INSERT_FIRST = {
    name: insert_ignoring_conflicts_in(name, _X).returning(_X.c.id)
    for name in ("postgresql", "sqlite")
}


class DatabaseXComStore:
    """XCom values of the ``xcom`` table, read and written in short transactions.

    Args:
        sessions: sessions of this process's engine.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def set(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str, value: Any
    ) -> None:
        """Store ``value`` under ``key``, replacing an earlier value of that key.

        Raises:
            TypeError: ``value`` is not JSON-serialisable.
        """
        check_serialisable(key, value)
        ident = {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index}
        with transaction(self._sessions, sqlite_begin="IMMEDIATE") as session:
            write_xcoms(session, ident, [(key, value)])

    def clear(
        self, *, dag_id: str, run_id: str, task_id: str | None = None, map_index: int | None = None
    ) -> None:
        """Delete the values of a run, or of one of its task instances."""
        conditions = [_X.c.dag_id == dag_id, _X.c.run_id == run_id]
        if task_id is not None:
            conditions.append(_X.c.task_id == task_id)
        if map_index is not None:
            conditions.append(_X.c.map_index == map_index)
        with transaction(self._sessions, sqlite_begin="IMMEDIATE") as session:
            session.execute(sa.delete(_X).where(*conditions))

    def find(
        self,
        *,
        dag_id: str,
        run_id: str,
        key: str | None = None,
        task_ids: Iterable[str] | None = None,
        map_indexes: Iterable[int] | None = None,
    ) -> list[XComEntry]:
        """The matching entries, newest first; None for a filter means "any"."""
        query = sa.select(_X.c.id, _X.c.task_id, _X.c.map_index, _X.c.key, _X.c.value).where(
            _X.c.dag_id == dag_id, _X.c.run_id == run_id
        )
        if key is not None:
            query = query.where(_X.c.key == key)
        if task_ids is not None:
            query = query.where(_X.c.task_id.in_(list(task_ids)))
        if map_indexes is not None:
            query = query.where(_X.c.map_index.in_(list(map_indexes)))
        with self._sessions() as session:
            rows = session.execute(query.order_by(_X.c.id.desc())).all()
        return [
            XComEntry(dag_id, run_id, row.task_id, row.map_index, row.key, row.value, row.id)
            for row in rows
        ]


def write_xcoms(session: Session, ident: dict[str, Any], values: Iterable[tuple[str, Any]]) -> None:
    """Store each ``(key, value)`` for the task instance ``ident`` (``dag_id``,
    ``run_id``, ``task_id``, ``map_index``) in the caller's transaction, replacing the
    key's earlier value; values must have been checked to be JSON-serialisable."""
    insert_first = _INSERT_FIRST[session.get_bind().dialect.name]
    for key, value in values:
        row = {**ident, "key": key, "value": value}
        if session.execute(insert_first, row).first() is None:
            # Replaced by a new row rather than updated in place: "newest first" is id order.
            session.execute(_DELETE_KEY, {**{f"p_{k}": v for k, v in ident.items()}, "p_key": key})
            session.execute(_INSERT, row)
