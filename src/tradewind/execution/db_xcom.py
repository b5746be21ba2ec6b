"""XComs in the metadata database: the worker's :class:`~tradewind.execution.memory.XComStore`.

A worker runs each try with a ``LocalTaskInstance`` (the same object ``dags test``
uses, so ``xcom_pull`` has one implementation of Airflow's shapes) whose store is
this one. Every call is its own short transaction: a task that pushes a value and
then sleeps for an hour holds no connection and no lock meanwhile, and a value is
visible to other workers as soon as ``xcom_push`` returns.

Values are JSON (the ``xcom`` table's ``value`` column, what ``/api/v1`` returns).
A value that is not JSON-serialisable fails the push with a ``TypeError`` naming
the key, as Airflow's JSON XCom backend does. "Newest first" is the row id order:
a push deletes the previous value of the same key and inserts a new row.

The try's return value is the exception: the runner gives it to :meth:`hold`, which
checks it and keeps it, and the worker writes it in the transaction that records the
try's outcome (:func:`~tradewind.execution.db_task_instance.record_try`). Most tasks
touch the database for nothing else, so their process never connects; and the value
appears together with the ``success`` it belongs to. Reads in the same process (a
``post_execute`` or callback pulling its own return value) see held values.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tradewind.execution.memory import XComEntry
from tradewind.storage.engine import transaction
from tradewind.storage.tables.task_instance import TI_KEY
from tradewind.storage.tables.xcom import XComRow

_X = cast(sa.Table, XComRow.__table__)
_THIS_TI = tuple(_X.c[name] == sa.bindparam(f"p_{name}") for name in TI_KEY)
# Built once: constructing SQLAlchemy expressions costs more than running them on SQLite.
_DELETE_KEY = sa.delete(_X).where(*_THIS_TI, _X.c.key == sa.bindparam("p_key"))
_INSERT = sa.insert(_X)
#: Sequence numbers of held values: newer than any row's id.
_HELD_SEQUENCE = sys.maxsize // 2


class DatabaseXComStore:
    """XCom values of the ``xcom`` table, read and written in short transactions.

    Args:
        sessions: sessions of this process's engine.
        cleared: ``(dag_id, run_id, task_id, map_index)`` of a task instance whose
            XComs were already deleted when its try was claimed; the runner's
            ``clear_xcom`` at the start of that try then costs no transaction.
        holder: ``(dag_id, run_id, task_id, map_index)`` of the try whose return
            value :meth:`hold` keeps.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        cleared: tuple[str, str, str, int] | None = None,
        holder: tuple[str, str, str, int] | None = None,
    ) -> None:
        self._sessions = sessions
        self._cleared = cleared
        self._holder = holder
        self._held: dict[str, Any] = {}

    @property
    def held(self) -> tuple[tuple[str, Any], ...]:
        """``(key, value)`` given to :meth:`hold`, oldest first, for ``record_try``."""
        return tuple(self._held.items())

    def hold(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key`` of the holder for the worker to write.

        Raises:
            TypeError: ``value`` is not JSON-serialisable (checked now, as ``set`` does).
            ValueError: the store has no holder.
        """
        if self._holder is None:
            raise ValueError("this XCom store holds no values: it was given no holder")
        _check_serialisable(key, value)
        self._held.pop(key, None)  # a key held again is the newest
        self._held[key] = value

    def set(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str, value: Any
    ) -> None:
        """Store ``value`` under ``key``, replacing an earlier value of that key.

        Raises:
            TypeError: ``value`` is not JSON-serialisable.
        """
        _check_serialisable(key, value)
        ident = {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index}
        with transaction(self._sessions, sqlite_begin="IMMEDIATE") as session:
            write_xcoms(session, ident, [(key, value)])

    def clear(
        self, *, dag_id: str, run_id: str, task_id: str | None = None, map_index: int | None = None
    ) -> None:
        """Delete the values of a run, or of one of its task instances."""
        if self._holder is not None and self._holder[:2] == (dag_id, run_id):
            if task_id in (None, self._holder[2]) and map_index in (None, self._holder[3]):
                self._held.clear()
        if self._cleared is not None and self._cleared == (dag_id, run_id, task_id, map_index):
            self._cleared = None  # once: a later clear in the same try really deletes
            return
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
        task_ids = None if task_ids is None else list(task_ids)
        map_indexes = None if map_indexes is None else list(map_indexes)
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
        found = [
            XComEntry(dag_id, run_id, row.task_id, row.map_index, row.key, row.value, row.id)
            for row in rows
        ]
        held = self._held_matching(dag_id, run_id, key, task_ids, map_indexes)
        if not held:
            return found
        replaced = {(entry.task_id, entry.map_index, entry.key) for entry in held}
        return held + [e for e in found if (e.task_id, e.map_index, e.key) not in replaced]

    def _held_matching(
        self,
        dag_id: str,
        run_id: str,
        key: str | None,
        task_ids: Iterable[str] | None,
        map_indexes: Iterable[int] | None,
    ) -> list[XComEntry]:
        """Held values passing ``find``'s filters, newest first."""
        if self._holder is None or not self._held or self._holder[:2] != (dag_id, run_id):
            return []
        _, _, task_id, map_index = self._holder
        if task_ids is not None and task_id not in set(task_ids):
            return []
        if map_indexes is not None and map_index not in set(map_indexes):
            return []
        entries = [
            XComEntry(dag_id, run_id, task_id, map_index, held_key, value, _HELD_SEQUENCE + n)
            for n, (held_key, value) in enumerate(self._held.items())
            if key is None or held_key == key
        ]
        return entries[::-1]


def write_xcoms(session: Session, ident: dict[str, Any], values: Iterable[tuple[str, Any]]) -> None:
    """Store each ``(key, value)`` for the task instance ``ident`` (``dag_id``,
    ``run_id``, ``task_id``, ``map_index``) in the caller's transaction, replacing the
    key's earlier value; values must have been checked to be JSON-serialisable."""
    for key, value in values:
        session.execute(_DELETE_KEY, {**{f"p_{k}": v for k, v in ident.items()}, "p_key": key})
        session.execute(_INSERT, {**ident, "key": key, "value": value})


def _check_serialisable(key: str, value: Any) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"XCom value of key {key!r} is not JSON-serialisable: {exc}") from exc
