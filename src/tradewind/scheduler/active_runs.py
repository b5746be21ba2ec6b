"""Reading the queued and running runs with their task instances, incrementally.

Every tick needs every task instance of every active run (trigger rules look at
upstream states), but between two ticks only a few of them change. Reading all of
them in full each time made a 1,000-task run cost the scheduler tens of milliseconds
per tick, most of it turning rows and their dates into Python objects.

:class:`ActiveRuns` keeps the :class:`~tradewind.scheduler.model.TaskInstanceSnapshot`
s of the last read and, each tick, reads:

1. the active runs themselves (one row per run);
2. a *version* of each of their task instances: ``(state, try_number, max_tries,
   updated_at)``, four narrow columns, the dates left undecoded;
3. in full, only the task instances that are new or whose version changed.

Every writer changes the version of the rows it touches: state transitions change
``state`` or ``try_number``, clearing changes ``max_tries``, and every UPDATE sets
``updated_at`` (the column's ``onupdate``). So the snapshot is exactly what one full
read would return; it is only cheaper to obtain.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.scheduler.model import RunSnapshot, TaskInstanceSnapshot
from tradewind.storage.tables import DagRunRow, TaskInstanceRow

#: Run states the scheduler works on.
ACTIVE_RUN_STATES = ("queued", "running")
#: Task instances read in full per statement (bound parameters stay well under limits).
_CHUNK = 500

_Version = tuple[Any, ...]


class ActiveRuns:
    """The scheduler's view of the active runs, refreshed by :meth:`read`.

    Owned by one scheduler loop (not thread-safe). A fresh instance reads everything.
    """

    def __init__(self) -> None:
        self._tis: dict[int, tuple[_Version, TaskInstanceSnapshot]] = {}

    def read(self, session: Session) -> list[RunSnapshot]:
        """The queued and running runs, oldest logical date first, each with all its
        task instances (ordered by id), as of the caller's transaction."""
        heads = _read_heads(session)
        if not heads:
            self._tis.clear()
            return []
        versions = _read_versions(session)
        stale = [
            ti_id
            for ti_id, _run_id, version in versions
            if (cached := self._tis.get(ti_id)) is None or cached[0] != version
        ]
        fresh = _read_full(session, stale)
        tis: dict[int, tuple[_Version, TaskInstanceSnapshot]] = {}
        by_run: dict[int, list[TaskInstanceSnapshot]] = defaultdict(list)
        for ti_id, run_id, version in versions:
            snapshot = fresh.get(ti_id)
            if snapshot is None:
                cached = self._tis.get(ti_id)
                if cached is None:  # deleted since its version was read (PostgreSQL)
                    continue
                snapshot = cached[1]
            tis[ti_id] = (version, snapshot)
            by_run[run_id].append(snapshot)
        self._tis = tis
        return [
            RunSnapshot(
                id=head.id,
                dag_id=head.dag_id,
                run_id=head.run_id,
                run_type=head.run_type,
                state=head.state,
                logical_date=head.logical_date,
                data_interval_start=head.data_interval_start,
                data_interval_end=head.data_interval_end,
                queued_at=head.queued_at,
                start_date=head.start_date,
                task_instances=tuple(by_run[head.id]),
            )
            for head in heads
        ]


# Built once, of the tables' columns: building a statement and its cache key, and the
# ORM's handling of a statement of mapped attributes, cost more than running it.
_RUN = cast(sa.Table, DagRunRow.__table__)
_TI = cast(sa.Table, TaskInstanceRow.__table__)
_HEADS = (
    sa.select(
        _RUN.c.id,
        _RUN.c.dag_id,
        _RUN.c.run_id,
        _RUN.c.run_type,
        _RUN.c.state,
        _RUN.c.logical_date,
        _RUN.c.data_interval_start,
        _RUN.c.data_interval_end,
        _RUN.c.queued_at,
        _RUN.c.start_date,
    )
    .where(_RUN.c.state.in_(ACTIVE_RUN_STATES))
    .order_by(_RUN.c.logical_date, _RUN.c.id)
)
_VERSIONS = (
    sa.select(
        _TI.c.id,
        _RUN.c.id,
        _TI.c.state,
        _TI.c.try_number,
        _TI.c.max_tries,
        # Compared, never read: skip decoding the date (a string on SQLite).
        sa.type_coerce(_TI.c.updated_at, sa.String()),
    )
    .join(_RUN, sa.and_(_TI.c.dag_id == _RUN.c.dag_id, _TI.c.run_id == _RUN.c.run_id))
    .where(_RUN.c.state.in_(ACTIVE_RUN_STATES))
    .order_by(_TI.c.id)
)
_FULL = sa.select(
    _TI.c.id,
    _TI.c.task_id,
    _TI.c.map_index,
    _TI.c.state,
    _TI.c.try_number,
    _TI.c.max_tries,
    _TI.c.pool,
    _TI.c.pool_slots,
    _TI.c.priority_weight,
    _TI.c.queue,
    _TI.c.start_date,
    _TI.c.end_date,
).where(_TI.c.id.in_(sa.bindparam("p_ids", expanding=True)))


def _read_heads(session: Session) -> list[Any]:
    return list(session.execute(_HEADS))


def _read_versions(session: Session) -> list[tuple[int, int, _Version]]:
    """(ti id, run id, version) of every task instance of an active run, by ti id."""
    return [(row[0], row[1], tuple(row[2:])) for row in session.execute(_VERSIONS)]


def _read_full(session: Session, ids: Iterable[int]) -> dict[int, TaskInstanceSnapshot]:
    wanted = list(ids)
    found: dict[int, TaskInstanceSnapshot] = {}
    for start in range(0, len(wanted), _CHUNK):
        for row in session.execute(_FULL, {"p_ids": wanted[start : start + _CHUNK]}):
            found[row.id] = TaskInstanceSnapshot(*row)
    return found
