"""The XComs of a running try: its return value held until its outcome is recorded.

:class:`TryXComStore` wraps the store a try reads and writes (the database in the
inline executor, the worker over a pipe in a task process) and adds two things:

* the return value (given to :meth:`TryXComStore.hold` by the runner) is checked
  and kept, and travels with the try's outcome; the worker writes it in the
  transaction that records the outcome
  (:func:`~tradewind.execution.db_task_instance.record_try`). Most tasks touch XComs
  for nothing else, so they cost no round trip and no write transaction of their
  own, and the value appears together with the ``success`` it belongs to. Reads by
  the try itself (a ``post_execute`` or callback pulling its own return value) see
  held values, newest first;
* the runner's clear of the task instance's XComs at the start of the try costs
  nothing: claiming the try already deleted them.

Explicit ``xcom_push`` calls go through at once, as in Airflow.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from tradewind.execution.memory import XComEntry, XComStore

#: Sequence numbers of held values: newer than any stored value's.
_HELD_SEQUENCE = sys.maxsize // 2


def check_serialisable(key: str, value: Any) -> None:
    """Raise ``TypeError`` naming ``key`` when ``value`` is not JSON, as Airflow's JSON
    XCom backend does."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"XCom value of key {key!r} is not JSON-serialisable: {exc}") from exc


class TryXComStore:
    """The XCom store of one try of the task instance ``this_ti``.

    Args:
        inner: where XComs are stored.
        this_ti: ``(dag_id, run_id, task_id, map_index)`` of the try.
        cleared_at_claim: the claim deleted the task instance's XComs already, so the
            runner's first clear of them is skipped.
    """

    def __init__(
        self, inner: XComStore, this_ti: tuple[str, str, str, int], *, cleared_at_claim: bool
    ) -> None:
        self._inner = inner
        self._this_ti = this_ti
        self._skip_next_clear = cleared_at_claim
        self._held: dict[str, Any] = {}

    @property
    def held(self) -> tuple[tuple[str, Any], ...]:
        """``(key, value)`` given to :meth:`hold`, oldest first, for ``record_try``."""
        return tuple(self._held.items())

    def hold(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key`` of this try's task instance, to be written with
        the outcome.

        Raises:
            TypeError: ``value`` is not JSON-serialisable (checked now, as ``set`` does).
        """
        check_serialisable(key, value)
        self._held.pop(key, None)  # a key held again is the newest
        self._held[key] = value

    def set(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str, value: Any
    ) -> None:
        self._inner.set(
            dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index, key=key, value=value
        )

    def clear(
        self, *, dag_id: str, run_id: str, task_id: str | None = None, map_index: int | None = None
    ) -> None:
        this_dag, this_run, this_task, this_index = self._this_ti
        if (dag_id, run_id) == (this_dag, this_run) and task_id in (None, this_task):
            if map_index in (None, this_index):
                self._held.clear()
        if self._skip_next_clear and (dag_id, run_id, task_id, map_index) == self._this_ti:
            self._skip_next_clear = False  # once: a later clear in the same try really deletes
            return
        self._inner.clear(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index)

    def find(
        self,
        *,
        dag_id: str,
        run_id: str,
        key: str | None = None,
        task_ids: Iterable[str] | None = None,
        map_indexes: Iterable[int] | None = None,
    ) -> list[XComEntry]:
        """The inner store's entries, with held values first (newest) in place of the
        stored values they will replace."""
        task_ids = None if task_ids is None else list(task_ids)
        map_indexes = None if map_indexes is None else list(map_indexes)
        found = self._inner.find(
            dag_id=dag_id, run_id=run_id, key=key, task_ids=task_ids, map_indexes=map_indexes
        )
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
        task_ids: list[str] | None,
        map_indexes: list[int] | None,
    ) -> list[XComEntry]:
        this_dag, this_run, task_id, map_index = self._this_ti
        if not self._held or (this_dag, this_run) != (dag_id, run_id):
            return []
        if task_ids is not None and task_id not in task_ids:
            return []
        if map_indexes is not None and map_index not in map_indexes:
            return []
        entries = [
            XComEntry(dag_id, run_id, task_id, map_index, held_key, value, _HELD_SEQUENCE + n)
            for n, (held_key, value) in enumerate(self._held.items())
            if key is None or held_key == key
        ]
        return entries[::-1]
