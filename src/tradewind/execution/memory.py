"""In-memory XCom store and task instance, for unit tests and ``tradewind dags test``.

They are first-class implementations of the contracts a running task sees
(``tradewind.sdk.runtime.RuntimeTaskInstance``), with Airflow 2.10's XCom
semantics, so an operator behaves the same here as in a worker backed by the
metadata database.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from tradewind.sdk.xcom_arg import RETURN_VALUE_KEY


@dataclass(frozen=True)
class XComEntry:
    """One stored XCom value and the order it was pushed in (newer is larger)."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    key: str
    value: Any
    sequence: int


class XComStore(Protocol):
    """Where a :class:`LocalTaskInstance` keeps its XComs.

    :class:`InMemoryXComStore` here; ``tradewind.execution.db_xcom.DatabaseXComStore``
    in a worker. ``LocalTaskInstance`` owns Airflow's ``xcom_pull`` shapes on top of
    these three calls, so both stores answer pulls identically.
    """

    def set(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str, value: Any
    ) -> None:
        """Store ``value``, replacing a value with the same identity."""
        ...

    def clear(
        self, *, dag_id: str, run_id: str, task_id: str | None = None, map_index: int | None = None
    ) -> None:
        """Delete the values of a run, or of one of its task instances."""
        ...

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
        ...


class InMemoryXComStore:
    """XCom values of any number of runs, keyed like Airflow's ``xcom`` table.

    A value is deep-copied on the way in, so a task mutating what it returned cannot
    change what its downstream tasks read. Thread-safe.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str, int, str], XComEntry] = {}
        self._sequence = itertools.count()
        self._lock = threading.Lock()

    def set(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str, value: Any
    ) -> None:
        """Store ``value``, replacing a value with the same identity."""
        entry = XComEntry(
            dag_id, run_id, task_id, map_index, key, _copy(value), next(self._sequence)
        )
        with self._lock:
            self._entries[(dag_id, run_id, task_id, map_index, key)] = entry

    def clear(
        self, *, dag_id: str, run_id: str, task_id: str | None = None, map_index: int | None = None
    ) -> None:
        """Delete the values of a run, or of one of its task instances."""
        with self._lock:
            for ident in [k for k in self._entries if k[:2] == (dag_id, run_id)]:
                if task_id is not None and ident[2] != task_id:
                    continue
                if map_index is not None and ident[3] != map_index:
                    continue
                del self._entries[ident]

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
        task_set = set(task_ids) if task_ids is not None else None
        index_set = set(map_indexes) if map_indexes is not None else None
        with self._lock:
            found = [
                entry
                for entry in self._entries.values()
                if entry.dag_id == dag_id
                and entry.run_id == run_id
                and (key is None or entry.key == key)
                and (task_set is None or entry.task_id in task_set)
                and (index_set is None or entry.map_index in index_set)
            ]
        return sorted(found, key=lambda entry: entry.sequence, reverse=True)

    def for_run(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        """``{task_id: {key: value}}`` of one run (unmapped task instances), push order."""
        result: dict[str, dict[str, Any]] = {}
        for entry in reversed(self.find(dag_id=dag_id, run_id=run_id)):
            if entry.map_index < 0:
                result.setdefault(entry.task_id, {})[entry.key] = entry.value
        return result


@dataclass
class LocalTaskInstance:
    """A task instance of one try, kept in memory (``RuntimeTaskInstance``).

    Attributes:
        skipped_task_ids: ids passed to :meth:`skip_tasks` during the try, for the
            caller to apply.
        task, logical_date, state, start_date, end_date: extra attributes users'
            callbacks and templates read from ``ti``, as on Airflow's TaskInstance.
    """

    dag_id: str
    task_id: str
    run_id: str
    xcom_store: XComStore
    try_number: int = 1
    max_tries: int = 0
    map_index: int = -1
    task: Any = None
    logical_date: datetime | None = None
    state: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    skipped_task_ids: set[str] = field(default_factory=set)

    @property
    def execution_date(self) -> datetime | None:
        """Airflow's older name of ``logical_date``."""
        return self.logical_date

    def xcom_push(self, key: str, value: Any, **_: Any) -> None:
        """Store ``value`` under ``key`` for this task instance (Airflow's extra
        arguments, such as ``execution_date``, are accepted and ignored)."""
        self.xcom_store.set(
            dag_id=self.dag_id,
            run_id=self.run_id,
            task_id=self.task_id,
            map_index=self.map_index,
            key=key,
            value=value,
        )

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        key: str = RETURN_VALUE_KEY,
        dag_id: str | None = None,
        map_indexes: int | Iterable[int] | None = None,
        include_prior_dates: bool = False,
        *,
        default: Any = None,
        **_: Any,
    ) -> Any:
        """Read XComs of this run, with Airflow 2.10's shapes.

        * ``task_ids`` a string (or None, meaning any task) and ``map_indexes`` not a
          list: the single newest matching value, or ``default`` when there is none.
          From a mapped task with ``map_indexes=None``, the list of all its values
          in map-index order.
        * ``task_ids`` a list (or ``map_indexes`` a list): a list of the values found,
          ordered as ``task_ids`` then ``map_indexes``; tasks that pushed nothing
          contribute nothing.

        ``key=None`` matches any key. ``include_prior_dates`` has no effect: the
        memory store knows no earlier runs of a DAG.
        """
        dag_id = dag_id or self.dag_id
        single_task = task_ids is None or isinstance(task_ids, str)
        id_list: list[str] | None
        if task_ids is None:
            id_list = None
        elif isinstance(task_ids, str):
            id_list = [task_ids]
        else:
            id_list = list(task_ids)
        index_list: list[int] | None
        if map_indexes is None:
            index_list = None
        elif isinstance(map_indexes, int):
            index_list = [map_indexes]
        else:
            index_list = list(map_indexes)
        entries = self.xcom_store.find(
            dag_id=dag_id, run_id=self.run_id, key=key, task_ids=id_list, map_indexes=index_list
        )
        if single_task and (map_indexes is None or isinstance(map_indexes, int)):
            if not entries:
                return default
            first = entries[0]
            if map_indexes is not None or first.map_index < 0:
                return first.value
            mapped = [e for e in entries if e.task_id == first.task_id and e.map_index >= 0]
            return [e.value for e in sorted(mapped, key=lambda e: e.map_index)]
        task_order = {task_id: i for i, task_id in enumerate(id_list or [])}
        index_order = {index: i for i, index in enumerate(index_list or [])}
        ordered = sorted(
            entries,
            key=lambda e: (
                task_order.get(e.task_id, len(task_order)),
                e.task_id,
                index_order.get(e.map_index, e.map_index),
            ),
        )
        return [e.value for e in ordered]

    def skip_tasks(self, task_ids: Iterable[str]) -> None:
        """Record that the given task instances of this run are to be skipped."""
        self.skipped_task_ids.update(task_ids)

    def clear_xcom(self) -> None:
        """Delete this task instance's XComs, as each new try does before running."""
        self.xcom_store.clear(
            dag_id=self.dag_id, run_id=self.run_id, task_id=self.task_id, map_index=self.map_index
        )

    def __repr__(self) -> str:
        suffix = f" map_index={self.map_index}" if self.map_index >= 0 else ""
        return f"<TaskInstance: {self.dag_id}.{self.task_id} {self.run_id}{suffix} [{self.state}]>"


def _copy(value: Any) -> Any:
    try:
        return copy.deepcopy(value)
    except Exception:  # an object that cannot be copied (a lock, a client) is kept as is
        return value
