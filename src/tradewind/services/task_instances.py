"""Task-instance use cases: clear (re-run) and set state by hand, as Airflow 2.10 does.

Sources of the semantics: ``airflow/models/taskinstance.py`` ``clear_task_instances``
and ``TaskInstanceHistory.record_ti``; ``DAG.clear`` / ``DAG.set_task_instance_state``;
``api/common/mark_tasks.py`` ``set_state``; the ``clearTaskInstances`` and
``updateTaskInstancesState`` endpoints. Every transition here races with the scheduler
and workers, whose updates are guarded on ``(state, try_number)``: a worker whose try
was cleared or marked by a user finds its guard broken and changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import InvalidInput
from tradewind.sdk.states import FINISHED_DAG_RUN_STATES, FINISHED_TI_STATES, TaskInstanceState
from tradewind.serialization import SerializedDAG
from tradewind.services.audit import record_event
from tradewind.services.dags import load_serialized_dag
from tradewind.storage.repositories import task_instances as ti_repo
from tradewind.storage.repositories.dag_runs import list_dag_runs, require_dag_run
from tradewind.storage.tables import DagRunRow, TaskInstanceRow

_TI = TaskInstanceState
#: Per-try columns reset when a task instance is cleared; the archived try keeps them.
_RESET_ON_CLEAR = (
    "start_date",
    "end_date",
    "duration",
    "hostname",
    "pid",
    "unixname",
    "job_id",
    "queued_dttm",
    "queued_by_job_id",
    "external_executor_id",
    "next_method",
    "next_kwargs",
    "trigger_id",
    "trigger_timeout",
    "last_heartbeat_at",
)


def clear_task_instances(
    session: Session,
    dag_id: str,
    *,
    serialized_dag: SerializedDAG,
    now: datetime,
    task_ids: Iterable[str] | None = None,
    run_ids: Collection[str] | None = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    only_failed: bool = False,
    only_running: bool = False,
    include_upstream: bool = False,
    include_downstream: bool = False,
    include_future: bool = False,
    include_past: bool = False,
    exclude_task_ids: Collection[str] = (),
    reset_dag_runs: bool = True,
    dry_run: bool = False,
    owner: str | None = None,
) -> list[TaskInstanceRow]:
    """Clear task instances so the scheduler runs them again; return those affected.

    Selection (Airflow's ``DAG.clear`` with the API's window rules):
        - tasks: ``task_ids`` (all of the DAG's when None) plus, on request, all their
          upstream and/or downstream tasks, minus ``exclude_task_ids``;
        - runs: ``run_ids`` exactly; or the logical-date window ``start_date`` ..
          ``end_date`` (inclusive, open when None). ``include_past`` drops the lower
          bound and ``include_future`` the upper one (with ``run_ids``, the window
          spans their logical dates);
        - states: ``only_failed`` (failed, upstream_failed) and ``only_running``
          (running) add up, as in Airflow; neither means every state.

    Each selected instance's current try (if it ran) is archived to history, an
    unfinished one as ``failed`` (Airflow's ``record_ti``). A ``running`` instance
    becomes ``restarting``, so its worker's final update fails its guard and the try
    is retried; every other one becomes NULL with its try number kept, per-try fields
    reset, pool/queue/weight refreshed from the DAG, and ``max_tries = try_number +
    retries``. Sensor reschedules of the cleared tries are deleted. With
    ``reset_dag_runs``, their finished runs go back to ``queued`` (Airflow's
    ``dag_run_state=QUEUED``; runs still queued or running are left alone).

    Args:
        dry_run: change nothing; return the instances that would be cleared.

    Raises:
        NotFound: a task id or run id does not exist.
    """
    tis = _select_for_clear(
        session,
        dag_id,
        serialized_dag,
        task_ids=task_ids,
        run_ids=run_ids,
        start_date=start_date,
        end_date=end_date,
        only_failed=only_failed,
        only_running=only_running,
        include_upstream=include_upstream,
        include_downstream=include_downstream,
        include_future=include_future,
        include_past=include_past,
        exclude_task_ids=exclude_task_ids,
        lock=not dry_run,
    )
    if dry_run or not tis:
        return tis
    _apply_clear(session, tis, serialized_dag, reset_dag_runs=reset_dag_runs, now=now)
    record_event(
        session,
        "clear",
        now=now,
        owner=owner,
        dag_id=dag_id,
        extra={
            "task_instances": len(tis),
            "task_ids": sorted({ti.task_id for ti in tis}),
            "run_ids": sorted({ti.run_id for ti in tis}),
        },
    )
    return tis


def _select_for_clear(
    session: Session,
    dag_id: str,
    dag: SerializedDAG,
    *,
    task_ids: Iterable[str] | None,
    run_ids: Collection[str] | None,
    start_date: datetime | None,
    end_date: datetime | None,
    only_failed: bool,
    only_running: bool,
    include_upstream: bool,
    include_downstream: bool,
    include_future: bool,
    include_past: bool,
    exclude_task_ids: Collection[str],
    lock: bool,
) -> list[TaskInstanceRow]:
    if task_ids is None:
        chosen = set(dag.task_ids)
    else:
        chosen = dag.relatives(task_ids, upstream=include_upstream, downstream=include_downstream)
    chosen -= set(exclude_task_ids)
    if not chosen:
        return []
    ti = TaskInstanceRow
    query = (
        sa.select(ti)
        .join(DagRunRow, sa.and_(DagRunRow.dag_id == ti.dag_id, DagRunRow.run_id == ti.run_id))
        .where(ti.dag_id == dag_id)
        .order_by(DagRunRow.logical_date, ti.task_id, ti.map_index)
    )
    if chosen != set(dag.task_ids):
        query = query.where(ti.task_id.in_(sorted(chosen)))
    if run_ids is not None:
        if not run_ids:
            return []
        runs = list_dag_runs(session, dag_id, run_ids=sorted(run_ids), limit=len(run_ids)).items
        missing = sorted(set(run_ids) - {run.run_id for run in runs})
        if missing:
            require_dag_run(session, dag_id, missing[0])
        if not (include_past or include_future):
            query = query.where(ti.run_id.in_([run.run_id for run in runs]))
        start_date = min(run.logical_date for run in runs)
        end_date = max(run.logical_date for run in runs)
    if start_date is not None and not include_past:
        query = query.where(DagRunRow.logical_date >= start_date)
    if end_date is not None and not include_future:
        query = query.where(DagRunRow.logical_date <= end_date)
    states: list[str] = []
    if only_failed:
        states += [_TI.FAILED.value, _TI.UPSTREAM_FAILED.value]
    if only_running:
        states += [_TI.RUNNING.value]
    if states:
        query = query.where(ti.state.in_(states))
    if lock:
        # Rows the scheduler may be moving right now: take them before changing them.
        query = query.with_for_update(of=ti)
    # Instances of tasks no longer in the DAG are never cleared, as in Airflow.
    return [row for row in session.scalars(query) if row.task_id in chosen]


def _apply_clear(
    session: Session,
    tis: list[TaskInstanceRow],
    dag: SerializedDAG,
    *,
    reset_dag_runs: bool,
    now: datetime,
) -> None:
    ti_repo.archive_tries(session, tis, overrides=lambda ti: _archived_values(ti, now))
    ti_repo.delete_reschedules(session, tis)
    weights = dag.priority_weights()
    for ti in tis:
        task = dag.get_task(ti.task_id)
        ti.max_tries = ti.try_number + task.retries
        if ti.state == _TI.RUNNING:
            ti.state = _TI.RESTARTING.value
            continue
        ti.state = None
        for column in _RESET_ON_CLEAR:
            setattr(ti, column, None)
        for column, value in ti_repo.task_columns(task, weights[ti.task_id]).items():
            setattr(ti, column, value)
    session.flush()
    if reset_dag_runs:
        _requeue_finished_runs(session, tis[0].dag_id, {ti.run_id for ti in tis}, now=now)


def _archived_values(ti: TaskInstanceRow, now: datetime) -> dict[str, Any]:
    """Airflow's ``record_ti``: a try that had not finished is archived as failed, now."""
    if ti.state in FINISHED_TI_STATES:
        return {}
    duration = (now - ti.start_date).total_seconds() if ti.start_date else None
    return {"state": _TI.FAILED.value, "end_date": now, "duration": duration}


def _requeue_finished_runs(
    session: Session, dag_id: str, run_ids: set[str], *, now: datetime
) -> None:
    statement = (
        sa.update(DagRunRow)
        .where(
            DagRunRow.dag_id == dag_id,
            DagRunRow.run_id.in_(sorted(run_ids)),
            DagRunRow.state.in_(sorted(str(state) for state in FINISHED_DAG_RUN_STATES)),
        )
        .values(
            state="queued",
            queued_at=now,
            start_date=None,
            end_date=None,
            last_scheduling_decision=None,
            clear_number=DagRunRow.clear_number + 1,
        )
        .execution_options(synchronize_session="fetch")
    )
    session.execute(statement)


def mark_state(ti: TaskInstanceRow, state: str, *, now: datetime) -> None:
    """Set a state by hand, as Airflow's ``TaskInstance.set_state``.

    The start date is kept (or becomes ``now``); a finished state also gets an end
    date (kept, or ``now``) and the duration between them.
    """
    # str(): psycopg would bind a StrEnum member by its name, not its value.
    ti.state = str(state)
    ti.start_date = ti.start_date or now
    if state in FINISHED_TI_STATES or state == _TI.UP_FOR_RETRY:
        ti.end_date = ti.end_date or now
        ti.duration = (ti.end_date - ti.start_date).total_seconds()


def set_task_instance_state(
    session: Session,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int = -1,
    *,
    state: str,
    now: datetime,
    include_upstream: bool = False,
    include_downstream: bool = False,
    include_future: bool = False,
    include_past: bool = False,
    dry_run: bool = False,
    owner: str | None = None,
) -> list[TaskInstanceRow]:
    """Mark a task instance (and, on request, its relatives and other runs) by hand.

    As Airflow's ``DAG.set_task_instance_state``: the instance ``task_id``/``map_index``
    of ``run_id``, plus every map index of its upstream/downstream tasks, in this run
    or, with ``include_past``/``include_future``, every run of the DAG with an earlier/
    later logical date too, are set to ``state`` unless already in it. Then the
    failed and upstream_failed instances downstream of ``task_id`` in those runs are
    cleared (their finished runs re-queued) so that they resume, which Airflow does
    whatever the new state is.

    Args:
        state: any finished state (success, failed, skipped, upstream_failed, removed).
        dry_run: change nothing; return the instances that would be set.

    Returns:
        The instances whose state was (or would be) set.

    Raises:
        InvalidInput: ``state`` is not a finished state.
        NotFound: unknown run, task, or task instance.
    """
    if state not in FINISHED_TI_STATES:
        allowed = ", ".join(sorted(FINISHED_TI_STATES))
        raise InvalidInput(f"Cannot set a task instance to {state!r}; expected one of {allowed}")
    run = require_dag_run(session, dag_id, run_id)
    dag = load_serialized_dag(session, dag_id)
    dag.get_task(task_id)
    ti_repo.require_task_instance(session, dag_id, run_id, task_id, map_index)
    relatives = dag.relatives(
        [task_id], upstream=include_upstream, downstream=include_downstream
    ) - {task_id}
    ti = TaskInstanceRow
    query = (
        sa.select(ti)
        .join(DagRunRow, sa.and_(DagRunRow.dag_id == ti.dag_id, DagRunRow.run_id == ti.run_id))
        .where(
            ti.dag_id == dag_id,
            sa.or_(
                sa.and_(ti.task_id == task_id, ti.map_index == map_index),
                ti.task_id.in_(sorted(relatives)),
            ),
            sa.or_(ti.state.is_(None), ti.state != str(state)),
        )
        .order_by(DagRunRow.logical_date, ti.task_id, ti.map_index)
    )
    if not include_past:
        query = query.where(DagRunRow.logical_date >= run.logical_date)
    if not include_future:
        query = query.where(DagRunRow.logical_date <= run.logical_date)
    if dry_run:
        return list(session.scalars(query))
    altered = list(session.scalars(query.with_for_update(of=ti)))
    for row in altered:
        mark_state(row, state, now=now)
    session.flush()
    downstream = _select_for_clear(
        session,
        dag_id,
        dag,
        task_ids=[task_id],
        run_ids=[run_id],
        start_date=None,
        end_date=None,
        only_failed=True,
        only_running=False,
        include_upstream=False,
        include_downstream=True,
        include_future=include_future,
        include_past=include_past,
        exclude_task_ids={task_id},
        lock=True,
    )
    if downstream:
        _apply_clear(session, downstream, dag, reset_dag_runs=True, now=now)
    record_event(
        session,
        "set_task_instance_state",
        now=now,
        owner=owner,
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        map_index=map_index,
        extra={"state": state, "task_instances": len(altered), "cleared": len(downstream)},
    )
    return altered


def states_for_dag_run(session: Session, dag_id: str, run_id: str) -> list[TaskInstanceRow]:
    """Every task instance of a run (``tasks states-for-dag-run``).

    Raises:
        NotFound: no such run.
    """
    require_dag_run(session, dag_id, run_id)
    return ti_repo.tis_of_run(session, dag_id, run_id)
