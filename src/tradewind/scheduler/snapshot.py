"""Reading a :class:`~tradewind.scheduler.model.Snapshot` in a bounded number of queries.

A tick reads everything the planner needs in a bounded number of statements, whatever the
number of DAGs, runs and task instances:

1. the DAGs with a queued or running run, or a scheduled run due (with their
   serialized DAG's hash and file);
2. the serialized documents of those whose hash is not in the :class:`DagCache`
   (none in steady state: a DAG is deserialized once per version, not per tick);
3. every queued and running run with all its task instances (a narrow version of
   each task instance, and in full only those that changed since the last tick:
   see :mod:`.active_runs`);
4. pool occupancy (one aggregate);
5. queued + running task instances per (dag_id, task_id) (one aggregate; the totals
   and per-DAG counts are sums of it);
6. only when a run's DAG has ``depends_on_past`` tasks: those tasks' states in each
   run's previous run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from tradewind.config import Settings
from tradewind.errors import TradewindError
from tradewind.scheduler.active_runs import ActiveRuns
from tradewind.scheduler.model import (
    DagSnapshot,
    PoolSnapshot,
    RunSnapshot,
    Snapshot,
)
from tradewind.serialization import SerializedDAG, deserialize_dag
from tradewind.storage.tables import (
    DagRow,
    DagRunRow,
    PoolRow,
    SerializedDagRow,
    TaskInstanceRow,
)

logger = logging.getLogger(__name__)

#: Task instance states that hold a slot (parallelism, pools, max_active_tasks).
ACTIVE_TI_STATES = ("queued", "running")
#: Outcomes that satisfy ``depends_on_past`` when the same task of the previous run
#: has them; any other state is reported as is.
_PAST_OK = ("success", "skipped")


@dataclass(frozen=True)
class CachedDag:
    """One deserialized DAG version and the file its tasks are imported from."""

    dag_hash: str
    dag: SerializedDAG
    fileloc: str


class DagCache:
    """Deserialized DAGs by dag_id, kept while their ``dag_hash`` is unchanged.

    Owned by the scheduler loop and shared by reading (snapshots) and applying
    (creating task instances, filling workloads' ``fileloc``): deserializing a large DAG
    costs milliseconds, which would otherwise be paid on every tick. A document that
    cannot be read is remembered by hash too, so it is logged once, not every tick.
    """

    def __init__(self) -> None:
        self._entries: dict[str, CachedDag] = {}
        self._broken: dict[str, str] = {}

    def get(self, dag_id: str) -> CachedDag | None:
        return self._entries.get(dag_id)

    def fresh(self, dag_id: str, dag_hash: str) -> bool:
        """Whether ``dag_id`` at ``dag_hash`` needs no (re)loading."""
        entry = self._entries.get(dag_id)
        return (entry is not None and entry.dag_hash == dag_hash) or self._broken.get(
            dag_id
        ) == dag_hash

    def load(self, dag_id: str, dag_hash: str, data: object, fileloc: str) -> CachedDag | None:
        """Deserialize and keep ``data``; None (logged once) when it cannot be read."""
        try:
            dag = deserialize_dag(data)  # type: ignore[arg-type]
        except TradewindError as exc:
            if self._broken.get(dag_id) != dag_hash:
                logger.error("Cannot schedule DAG %s: %s", dag_id, exc)
            self._broken[dag_id] = dag_hash
            self._entries.pop(dag_id, None)
            return None
        self._broken.pop(dag_id, None)
        entry = self._entries[dag_id] = CachedDag(dag_hash, dag, fileloc)
        return entry

    def load_missing(self, session: Session, wanted: dict[str, str]) -> None:
        """Load, in one query, the DAGs of ``wanted`` (dag_id -> hash) not cached yet."""
        missing = [dag_id for dag_id, digest in wanted.items() if not self.fresh(dag_id, digest)]
        if not missing:
            return
        rows = session.execute(_SERIALIZED_DAGS, {"p_dag_ids": missing})
        for dag_id, digest, data, fileloc in rows:
            self.load(dag_id, digest, data, fileloc)

    def __len__(self) -> int:
        return len(self._entries)


def read_snapshot(
    session: Session,
    *,
    now: datetime,
    settings: Settings,
    executor_open_slots: int,
    dag_cache: DagCache,
    active_runs: ActiveRuns | None = None,
) -> Snapshot:
    """Everything one planning pass needs, read in the caller's transaction.

    Args:
        now: aware UTC instant of the decision.
        settings: ``[core]`` limits and ``[scheduler] catchup_by_default``.
        executor_open_slots: what the executor accepts now (``Executor.open_slots``).
        dag_cache: the loop's cache; updated with DAG versions not seen before.
        active_runs: the loop's view of the active runs, refreshed here (only what
            changed since its last read is read in full); None reads everything.
    """
    runs = (active_runs if active_runs is not None else ActiveRuns()).read(session)
    dag_rows = _read_dags(session, now, {run.dag_id for run in runs})
    dag_cache.load_missing(session, {row.dag_id: row.dag_hash for row in dag_rows})
    running: dict[str, int] = defaultdict(int)
    for run in runs:
        if run.state == "running":
            running[run.dag_id] += 1
    dags: dict[str, DagSnapshot] = {}
    for row in dag_rows:
        cached = dag_cache.get(row.dag_id)
        if cached is None or cached.dag_hash != row.dag_hash:
            continue
        dags[row.dag_id] = _dag_snapshot(row, cached.dag, settings, running[row.dag_id])
    by_task = _active_by_task(session)
    by_dag: dict[str, int] = defaultdict(int)
    for (dag_id, _task_id), count in by_task.items():
        by_dag[dag_id] += count
    return Snapshot(
        now=now,
        parallelism=settings.core.parallelism,
        executor_open_slots=executor_open_slots,
        dags=dags,
        runs=tuple(run for run in runs if run.dag_id in dags),
        pools=_read_pools(session),
        active_tis=sum(by_task.values()),
        active_tis_by_dag=dict(by_dag),
        active_tis_by_task=by_task,
        previous_ti_states=_previous_states(session, runs, dags),
    )


@dataclass(frozen=True)
class _DagRowView:
    dag_id: str
    is_paused: bool
    max_active_runs: int | None
    max_active_tasks: int
    next_dagrun: datetime | None
    next_dagrun_data_interval_start: datetime | None
    next_dagrun_data_interval_end: datetime | None
    next_dagrun_create_after: datetime | None
    dag_hash: str


_DAG = cast(sa.Table, DagRow.__table__)
_SERIALIZED = cast(sa.Table, SerializedDagRow.__table__)
_TI = cast(sa.Table, TaskInstanceRow.__table__)
_POOL = cast(sa.Table, PoolRow.__table__)
# The statements of every tick are built once, of the tables' columns: building one and
# its cache key, and the ORM's handling of mapped attributes, cost more than running it.
_DAGS_DUE = sa.and_(
    _DAG.c.is_active,
    sa.not_(_DAG.c.is_paused),
    _DAG.c.next_dagrun_create_after <= sa.bindparam("p_now"),
)
_DAGS = sa.select(
    _DAG.c.dag_id,
    _DAG.c.is_paused,
    _DAG.c.max_active_runs,
    _DAG.c.max_active_tasks,
    _DAG.c.next_dagrun,
    _DAG.c.next_dagrun_data_interval_start,
    _DAG.c.next_dagrun_data_interval_end,
    _DAG.c.next_dagrun_create_after,
    _SERIALIZED.c.dag_hash,
).join(_SERIALIZED, _SERIALIZED.c.dag_id == _DAG.c.dag_id)  # fmt: skip
_DAGS_DUE_ONLY = _DAGS.where(_DAGS_DUE)
_DAGS_DUE_OR_WITH_RUNS = _DAGS.where(
    sa.or_(_DAGS_DUE, _DAG.c.dag_id.in_(sa.bindparam("p_dag_ids", expanding=True)))
)
_POOLS = (
    sa.select(_POOL.c.name, _POOL.c.slots, sa.func.coalesce(sa.func.sum(_TI.c.pool_slots), 0))
    .outerjoin(
        _TI,
        sa.and_(
            _TI.c.pool == _POOL.c.name,
            sa.or_(
                _TI.c.state.in_(ACTIVE_TI_STATES),
                sa.and_(_TI.c.state == "deferred", _POOL.c.include_deferred),
            ),
        ),
    )
    .group_by(_POOL.c.name, _POOL.c.slots)
)
_ACTIVE_BY_TASK = (
    sa.select(_TI.c.dag_id, _TI.c.task_id, sa.func.count())
    .where(_TI.c.state.in_(ACTIVE_TI_STATES))
    .group_by(_TI.c.dag_id, _TI.c.task_id)
)
_SERIALIZED_DAGS = sa.select(
    _SERIALIZED.c.dag_id, _SERIALIZED.c.dag_hash, _SERIALIZED.c.data, _SERIALIZED.c.fileloc
).where(_SERIALIZED.c.dag_id.in_(sa.bindparam("p_dag_ids", expanding=True)))


def _read_dags(session: Session, now: datetime, with_runs: set[str]) -> list[_DagRowView]:
    if with_runs:
        rows = session.execute(_DAGS_DUE_OR_WITH_RUNS, {"p_now": now, "p_dag_ids": list(with_runs)})
    else:
        rows = session.execute(_DAGS_DUE_ONLY, {"p_now": now})
    return [_DagRowView(*row) for row in rows]


def _dag_snapshot(
    row: _DagRowView, dag: SerializedDAG, settings: Settings, active_runs: int
) -> DagSnapshot:
    interval = None
    if row.next_dagrun_data_interval_start and row.next_dagrun_data_interval_end:
        interval = (row.next_dagrun_data_interval_start, row.next_dagrun_data_interval_end)
    max_runs = row.max_active_runs or dag.max_active_runs
    return DagSnapshot(
        dag_id=row.dag_id,
        dag=dag,
        is_paused=row.is_paused,
        max_active_runs=max_runs or settings.core.max_active_runs_per_dag,
        max_active_tasks=row.max_active_tasks or settings.core.max_active_tasks_per_dag,
        catchup=settings.scheduler.catchup_by_default if dag.catchup is None else dag.catchup,
        next_dagrun=row.next_dagrun,
        next_dagrun_data_interval=interval,
        next_dagrun_create_after=row.next_dagrun_create_after,
        active_runs=active_runs,
    )


def _read_pools(session: Session) -> dict[str, PoolSnapshot]:
    rows = session.execute(_POOLS)
    return {name: PoolSnapshot(name, slots, int(occupied)) for name, slots, occupied in rows}


def _active_by_task(session: Session) -> dict[tuple[str, str], int]:
    rows = session.execute(_ACTIVE_BY_TASK)
    return {(dag_id, task_id): int(count) for dag_id, task_id, count in rows}


def _previous_states(
    session: Session, runs: list[RunSnapshot], dags: dict[str, DagSnapshot]
) -> dict[tuple[str, str, str], str | None]:
    """States of ``depends_on_past`` tasks in each run's previous run (by logical date).

    One query, and none at all when no run's DAG has such a task. A mapped task reports
    its first state that is not a success or a skip, else success.
    """
    task_ids = {
        (dag_id, task.task_id)
        for dag_id, snapshot in dags.items()
        for task in snapshot.dag.tasks
        if task.depends_on_past
    }
    run_ids = [run.id for run in runs if any(key[0] == run.dag_id for key in task_ids)]
    if not run_ids:
        return {}
    current, previous = aliased(DagRunRow), aliased(DagRunRow)
    ti = TaskInstanceRow
    previous_id = (
        sa.select(previous.id)
        .where(previous.dag_id == current.dag_id, previous.logical_date < current.logical_date)
        .order_by(previous.logical_date.desc())
        .limit(1)
        .correlate(current)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(current.dag_id, current.run_id, ti.task_id, ti.state)
        .select_from(current)
        .join(previous, previous.id == previous_id)
        .join(ti, sa.and_(ti.dag_id == previous.dag_id, ti.run_id == previous.run_id))
        .where(current.id.in_(run_ids), ti.task_id.in_({task for _dag, task in task_ids}))
    ).all()
    states: dict[tuple[str, str, str], str | None] = {}
    for dag_id, run_id, task_id, state in rows:
        if (dag_id, task_id) not in task_ids:
            continue
        key = (dag_id, run_id, task_id)
        if key not in states or (states[key] in _PAST_OK and state not in _PAST_OK):
            states[key] = state
    return states
