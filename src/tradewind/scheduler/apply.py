"""Applying the planner's :class:`~tradewind.scheduler.model.Decisions` to the database.

Everything happens in the caller's transaction (the tick's), in the order the
decisions are documented: create runs, start runs (creating their task instances),
task transitions, queueing, finishing runs. Every change is guarded by the state the
planner saw (``WHERE state IS NOT DISTINCT FROM :expected AND try_number = :try``) and
reports what it really changed (``RETURNING``), so a decision overtaken by another
scheduler, a worker or a user changes nothing and is dropped, and only task instances
this transaction really queued become :class:`TaskWorkload` s. Statements are grouped
by (expected, new) state: a tick issues a handful of statements, not one per row.

Workloads must be sent to the executor only *after* the transaction commits: a worker
that started earlier could not see its own ``queued`` row.

:func:`fail_tries` is the one transition the loop makes without the planner: retrying
or failing tries whose worker cannot record an outcome (zombies, lost workers).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.executors.base import TaskWorkload
from tradewind.scheduler.callbacks import request_dag_callbacks
from tradewind.scheduler.model import Decisions, NewRun, RunTransition, TaskTransition
from tradewind.scheduler.snapshot import DagCache
from tradewind.storage.repositories._queries import insert_ignoring_conflicts
from tradewind.storage.repositories.task_instances import archive_tries, task_columns
from tradewind.storage.tables import DagRow, DagRunRow, TaskInstanceRow

logger = logging.getLogger(__name__)

#: States the scheduler itself may set that end a try: they get an ``end_date``.
_ENDING_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
#: States set without the task ever running: ``start_date`` is set too, as in Airflow.
_NEVER_RAN_STATES = frozenset({"skipped", "upstream_failed", "removed"})


@dataclass
class AppliedCounts:
    """What one application really changed (guards that failed are not counted)."""

    runs_created: int = 0
    runs_started: int = 0
    tis_created: int = 0
    tis_transitioned: int = 0
    tis_queued: int = 0
    runs_finished: int = 0

    @property
    def changed(self) -> bool:
        return any(vars(self).values())


def apply_decisions(
    session: Session,
    decisions: Decisions,
    *,
    now: datetime,
    dag_cache: DagCache,
    job_id: int | None = None,
    counts: AppliedCounts | None = None,
) -> list[TaskWorkload]:
    """Apply ``decisions`` in the caller's transaction; return the workloads to send.

    Args:
        now: aware UTC instant written as start/end/queued dates.
        dag_cache: supplies the DAGs whose runs are started (their tasks) and the
            files of queued task instances.
        job_id: the scheduler's job, recorded as ``creating_job_id``/``queued_by_job_id``.
        counts: filled with what really changed, when given.

    Returns:
        One workload per task instance whose ``queued`` transition held, in decision
        order (highest priority first). Send them after commit.
    """
    counts = counts if counts is not None else AppliedCounts()
    counts.runs_created += _create_runs(session, decisions.runs_to_create, now, dag_cache, job_id)
    counts.runs_started, counts.tis_created = _start_runs(
        session, decisions.runs_to_start, now, dag_cache
    )
    counts.tis_transitioned += len(_transition_tis(session, decisions.task_transitions, now))
    workloads = _queue_tis(session, decisions.tis_to_queue, now, dag_cache, job_id)
    counts.tis_queued += len(workloads)
    counts.runs_finished += _finish_runs(session, decisions.runs_to_finish, now, dag_cache)
    return workloads


def _create_runs(
    session: Session,
    new_runs: tuple[NewRun, ...],
    now: datetime,
    dag_cache: DagCache,
    job_id: int | None,
) -> int:
    """Insert the scheduled runs (a run already holding the slot wins) and advance each
    DAG's next-run fields, guarded on ``next_dagrun`` still being the created run's."""
    if not new_runs:
        return 0
    rows = []
    for new in new_runs:
        cached = dag_cache.get(new.dag_id)
        rows.append(
            {
                "dag_id": new.dag_id,
                "run_id": new.run_id,
                "run_type": new.run_type,
                "logical_date": new.logical_date,
                "data_interval_start": new.data_interval_start,
                "data_interval_end": new.data_interval_end,
                "state": "queued",
                "queued_at": now,
                "external_trigger": False,
                "creating_job_id": job_id,
                "dag_hash": cached.dag_hash if cached is not None else None,
                "clear_number": 0,
                "updated_at": now,
            }
        )
    stmt = insert_ignoring_conflicts(session, DagRunRow).returning(DagRunRow.id)
    created = len(session.execute(stmt, rows).all())
    dag_table = cast(sa.Table, DagRow.__table__)
    advance = (
        sa.update(dag_table)
        .where(
            dag_table.c.dag_id == sa.bindparam("b_dag_id"),
            dag_table.c.next_dagrun == sa.bindparam("b_logical_date"),
        )
        .values(
            next_dagrun=sa.bindparam("b_next"),
            next_dagrun_data_interval_start=sa.bindparam("b_start"),
            next_dagrun_data_interval_end=sa.bindparam("b_end"),
            next_dagrun_create_after=sa.bindparam("b_after"),
        )
    )
    for new in new_runs:  # in order: a DAG catching up advances once per run
        interval = new.next_dagrun_data_interval
        session.execute(
            advance,
            {
                "b_dag_id": new.dag_id,
                "b_logical_date": new.logical_date,
                "b_next": new.next_dagrun,
                "b_start": interval[0] if interval else None,
                "b_end": interval[1] if interval else None,
                "b_after": new.next_dagrun_create_after,
            },
        )
    if created < len(new_runs):
        logger.info("%d scheduled run(s) already existed", len(new_runs) - created)
    return created


def _start_runs(
    session: Session, starts: tuple[RunTransition, ...], now: datetime, dag_cache: DagCache
) -> tuple[int, int]:
    """Move queued runs to running and create their missing task instances.

    Two statements whatever the number of runs: which tasks already have instances
    (a cleared run keeps its own), then one bulk INSERT of the others, as
    ``repositories.task_instances.create_task_instances`` would do run by run.
    """
    started = _transition_runs(session, starts, now, "start_date")
    if not started:
        return 0, 0
    run_ids = {(dag_id, run_id) for dag_id, run_id in started.values()}
    ti = TaskInstanceRow
    existing = {
        (dag_id, run_id, task_id)
        for dag_id, run_id, task_id in session.execute(
            sa.select(ti.dag_id, ti.run_id, ti.task_id)
            .join(DagRunRow, sa.and_(DagRunRow.dag_id == ti.dag_id, DagRunRow.run_id == ti.run_id))
            .where(DagRunRow.id.in_(started))
        )
    }
    rows = []
    for dag_id, run_id in sorted(run_ids):
        cached = dag_cache.get(dag_id)
        if cached is None:  # the planner only starts runs of DAGs it saw; be safe anyway
            logger.error("Started run %s of unknown DAG %s", run_id, dag_id)
            continue
        weights = cached.dag.priority_weights()
        rows += [
            {
                "dag_id": dag_id,
                "run_id": run_id,
                "task_id": task.task_id,
                "map_index": -1,
                "try_number": 0,
                "max_tries": task.retries,
                "state": None,
                "updated_at": now,
                **task_columns(task, weights.get(task.task_id, 1)),
            }
            for task in cached.dag.tasks
            if (dag_id, run_id, task.task_id) not in existing
        ]
    if rows:
        session.execute(sa.insert(TaskInstanceRow), rows)
    return len(started), len(rows)


def _finish_runs(
    session: Session, finishes: tuple[RunTransition, ...], now: datetime, dag_cache: DagCache
) -> int:
    """Finish runs and, in the same transaction, request their DAG callbacks."""
    finished = _transition_runs(session, finishes, now, "end_date")
    request_dag_callbacks(
        session,
        [(*finished[t.run_id], t) for t in finishes if t.run_id in finished],
        now,
        dag_cache,
    )
    for transition in finishes:
        if transition.run_id in finished and transition.reason:
            logger.info("Run %d is %s: %s", transition.run_id, transition.state, transition.reason)
    return len(finished)


def _transition_runs(
    session: Session,
    transitions: Iterable[RunTransition],
    now: datetime,
    date_column: str,
) -> dict[int, tuple[str, str]]:
    """Guarded ``UPDATE dag_run`` per (expected, new) state, setting ``date_column`` to
    ``now``; the (dag_id, run_id) of each run that changed, by id."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for transition in transitions:
        groups[(transition.expected, transition.state)].append(transition.run_id)
    changed: dict[int, tuple[str, str]] = {}
    run = DagRunRow
    for (expected, state), ids in groups.items():
        result = session.execute(
            sa.update(run)
            .where(run.id.in_(ids), run.state == expected)
            .values({"state": state, "updated_at": now, date_column: now})
            .returning(run.id, run.dag_id, run.run_id)
            .execution_options(synchronize_session=False)
        )
        changed.update((row.id, (row.dag_id, row.run_id)) for row in result)
    return changed


def _transition_tis(
    session: Session, transitions: tuple[TaskTransition, ...], now: datetime
) -> set[int]:
    """Guarded ``UPDATE task_instance`` per (expected state, try, new state, try)."""
    groups: dict[tuple[str | None, int, str | None, int], list[int]] = defaultdict(list)
    for t in transitions:
        groups[(t.expected_state, t.expected_try_number, t.state, t.try_number)].append(t.ti_id)
    changed: set[int] = set()
    ti = TaskInstanceRow
    for (expected, expected_try, state, try_number), ids in groups.items():
        values: dict[str, Any] = {"state": state, "try_number": try_number, "updated_at": now}
        if state in _ENDING_STATES:
            values["end_date"] = now
        if state in _NEVER_RAN_STATES:
            values["start_date"] = sa.func.coalesce(ti.start_date, now)
            values["duration"] = sa.func.coalesce(ti.duration, 0.0)
        result = session.execute(
            sa.update(ti)
            .where(*_guard(ids, expected, expected_try))
            .values(**values)
            .returning(ti.id)
            .execution_options(synchronize_session=False)
        )
        changed.update(result.scalars())
    return changed


_TI = cast(sa.Table, TaskInstanceRow.__table__)


def _guard(ids: Any, state: Any, try_number: Any) -> list[sa.ColumnElement[bool]]:
    """A transition's guard: these task instances, still in ``state`` with ``try_number``
    (values, or bind parameters for a statement built once)."""
    return [
        _TI.c.id.in_(ids),
        _TI.c.state.is_not_distinct_from(state),
        _TI.c.try_number == try_number,
    ]


# Built once, as every tick that queues runs it: building the statement and its cache key
# cost more than running it.
_QUEUE_TIS = (
    sa.update(_TI)
    .where(
        *_guard(
            sa.bindparam("p_ids", expanding=True),
            sa.bindparam("p_state", type_=sa.String()),
            sa.bindparam("p_expected_try"),
        )
    )
    .values(
        state="queued",
        try_number=sa.bindparam("p_try"),
        queued_dttm=sa.bindparam("p_now"),
        queued_by_job_id=sa.bindparam("p_job"),
        updated_at=sa.bindparam("p_now"),
    )
    .returning(
        _TI.c.id,
        _TI.c.dag_id,
        _TI.c.run_id,
        _TI.c.task_id,
        _TI.c.map_index,
        _TI.c.try_number,
        _TI.c.pool,
        _TI.c.queue,
        _TI.c.priority_weight,
        _TI.c.executor_config,
    )
)


def _queue_tis(
    session: Session,
    transitions: tuple[TaskTransition, ...],
    now: datetime,
    dag_cache: DagCache,
    job_id: int | None,
) -> list[TaskWorkload]:
    """Mark task instances queued (guarded) and build a workload for each that held."""
    groups: dict[tuple[str | None, int, int], list[int]] = defaultdict(list)
    for t in transitions:
        groups[(t.expected_state, t.expected_try_number, t.try_number)].append(t.ti_id)
    queued: dict[int, TaskWorkload] = {}
    for (expected, expected_try, try_number), ids in groups.items():
        result = session.execute(
            _QUEUE_TIS,
            {
                "p_ids": ids,
                "p_state": expected,
                "p_expected_try": expected_try,
                "p_try": try_number,
                "p_now": now,
                "p_job": job_id,
            },
        )
        for row in result:
            cached = dag_cache.get(row.dag_id)
            queued[row.id] = TaskWorkload(
                ti_id=row.id,
                dag_id=row.dag_id,
                run_id=row.run_id,
                task_id=row.task_id,
                map_index=row.map_index,
                try_number=row.try_number,
                fileloc=cached.fileloc if cached is not None else "",
                pool=row.pool,
                queue=row.queue,
                priority_weight=row.priority_weight,
                executor_config=row.executor_config,
            )
    return [queued[t.ti_id] for t in transitions if t.ti_id in queued]


def fail_tries(
    session: Session, now: datetime, *where: sa.ColumnElement[bool]
) -> list[tuple[str, str, str, int, str]]:
    """Move matching tries to ``up_for_retry`` (retries left) or ``failed``, in one
    guarded UPDATE; return (dag_id, run_id, task_id, try_number, new state) of each.

    For tries whose worker cannot record an outcome: zombies and lost workers.

    A try left for retry is archived as ``failed``, as the worker archives the tries it
    ends ``up_for_retry`` itself (``execution/db_task_instance.py``).
    """
    ti = TaskInstanceRow
    retry = sa.case((ti.try_number <= ti.max_tries, "up_for_retry"), else_="failed")
    rows = session.execute(
        sa.update(ti)
        .where(*where)
        .values(state=retry, end_date=now, updated_at=now)
        .returning(ti.id, ti.dag_id, ti.run_id, ti.task_id, ti.try_number, ti.state)
        .execution_options(synchronize_session=False)
    ).all()
    retried = [row.id for row in rows if row.state == "up_for_retry"]
    if retried:
        archive_tries(
            session,
            session.scalars(
                sa.select(ti).where(ti.id.in_(retried)).execution_options(populate_existing=True)
            ).all(),
            overrides=lambda _ti: {"state": "failed"},
        )
    return [(row.dag_id, row.run_id, row.task_id, row.try_number, row.state) for row in rows]
