"""Why a task instance is not running yet: the dependencies it does not meet right now.

Airflow's ``get_task_instance_dependencies`` evaluates the scheduler's queueing deps
for a task instance in state ``None`` or ``scheduled`` and reports those that fail;
for any other state (queued, running, finished...) there is nothing to wait for and
the list is empty. Tradewind reports the same checks under Airflow's names:

====================================  ==============================================
``Task Instance State``               only ``scheduled`` instances are queued
``Dagrun Running``                    the run is ``running``
``Dag Not Paused``                    the DAG is not paused
``Execution Date``                    the logical date is not in the future, and
                                      within the task's start and end dates
``Trigger Rule``                      the trigger rule over the direct upstream
                                      task instances says run
``Previous Dagrun State``             ``depends_on_past``: the same task in the
                                      previous run succeeded or was skipped
``Pool Slots Available``              the pool exists and has enough open slots
``Task Instance Slots Available``     the DAG's ``max_active_tasks`` is not reached
``Task Concurrency``                  the task's ``max_active_tis_per_dag`` is not
                                      reached
====================================  ==============================================

The trigger rule is evaluated by :func:`tradewind.sdk.trigger_rules.evaluate`, the
function the scheduler's planner uses, over the same upstream states; the other checks
restate the scheduler's admission rules (``scheduler/queueing.py``) as reasons. Only
reads, a bounded number of queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import NotFound
from tradewind.sdk.states import ACTIVE_TI_STATES, DagRunState, TaskInstanceState
from tradewind.sdk.trigger_rules import UpstreamStates, Verdict, evaluate
from tradewind.serialization import SerializedDAG, SerializedTask
from tradewind.services.dags import load_serialized_dag
from tradewind.storage.repositories import dags as dag_repo
from tradewind.storage.repositories import pools as pool_repo
from tradewind.storage.repositories.dag_runs import require_dag_run
from tradewind.storage.repositories.task_instances import require_task_instance
from tradewind.storage.tables import DagRow, DagRunRow, TaskInstanceRow

_TI = TaskInstanceState
#: States in which the scheduler still has to decide or queue the instance.
_WAITING_STATES = (None, _TI.SCHEDULED)
_PAST_OK_STATES = (_TI.SUCCESS, _TI.SKIPPED)
_ACTIVE = sorted(str(state) for state in ACTIVE_TI_STATES)


@dataclass(frozen=True)
class FailedDependency:
    """One unmet dependency: Airflow's dependency name and why it is not met."""

    name: str
    reason: str


def unmet_dependencies(
    session: Session,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int = -1,
    *,
    now: datetime,
) -> list[FailedDependency]:
    """The dependencies keeping one task instance from being queued, sorted by name.

    Empty for an instance that is not waiting (any state but None and ``scheduled``),
    and for one whose DAG or task is no longer stored, as in Airflow.

    Raises:
        NotFound: no such task instance.
    """
    ti = require_task_instance(session, dag_id, run_id, task_id, map_index)
    if ti.state not in _WAITING_STATES:
        return []
    try:
        dag = load_serialized_dag(session, dag_id)
        task = dag.get_task(task_id)
    except NotFound:
        return []
    run = require_dag_run(session, dag_id, run_id)
    dag_row = dag_repo.require_dag(session, dag_id)
    failed = [
        *_run_checks(ti, run, dag_row, task, now),
        *_upstream_checks(session, ti, run, task),
        *_slot_checks(session, ti, dag, dag_row, task),
    ]
    return sorted(failed, key=lambda dependency: dependency.name)


def _run_checks(
    ti: TaskInstanceRow, run: DagRunRow, dag_row: DagRow, task: SerializedTask, now: datetime
) -> Iterator[FailedDependency]:
    if ti.state != _TI.SCHEDULED:
        yield FailedDependency("Task Instance State", f"Task is in the '{ti.state}' state.")
    if run.state != DagRunState.RUNNING:
        yield FailedDependency(
            "Dagrun Running",
            "Task instance's dagrun was not in the 'running' state but in the state "
            f"'{run.state}'.",
        )
    if dag_row.is_paused:
        yield FailedDependency("Dag Not Paused", f"Task's DAG '{ti.dag_id}' is paused.")
    logical_date = run.logical_date
    if logical_date > now:
        yield FailedDependency(
            "Execution Date",
            f"Execution date {logical_date.isoformat()} is in the future (the current date"
            f" is {now.isoformat()}).",
        )
    if task.start_date is not None and logical_date < task.start_date:
        yield FailedDependency(
            "Execution Date",
            f"The execution date is {logical_date.isoformat()} but this is before the"
            f" task's start date {task.start_date.isoformat()}.",
        )
    if task.end_date is not None and logical_date > task.end_date:
        yield FailedDependency(
            "Execution Date",
            f"The execution date is {logical_date.isoformat()} but this is after the"
            f" task's end date {task.end_date.isoformat()}.",
        )


def _upstream_checks(
    session: Session, ti: TaskInstanceRow, run: DagRunRow, task: SerializedTask
) -> Iterator[FailedDependency]:
    row = TaskInstanceRow
    upstream_states = list(
        session.scalars(
            sa.select(row.state).where(
                row.dag_id == ti.dag_id,
                row.run_id == ti.run_id,
                row.task_id.in_(sorted(task.upstream_task_ids)),
            )
        )
    )
    counts = UpstreamStates.count(upstream_states)
    verdict = evaluate(task.trigger_rule, counts)
    if verdict != Verdict.RUN:
        yield FailedDependency(
            "Trigger Rule",
            f"Task's trigger rule '{task.trigger_rule}' is not met ({verdict}):"
            f" upstream states success={counts.success}, skipped={counts.skipped},"
            f" failed={counts.failed}, upstream_failed={counts.upstream_failed},"
            f" done={counts.done} of {counts.total};"
            f" upstream_task_ids={sorted(task.upstream_task_ids)}",
        )
    if task.depends_on_past or task.wait_for_downstream:
        previous = _previous_state(session, ti, run)
        if previous is not None and previous[1] not in _PAST_OK_STATES:
            yield FailedDependency(
                "Previous Dagrun State",
                "depends_on_past is true for this task, but the previous task instance"
                f" (run '{previous[0]}') is in the state '{previous[1]}' which is not a"
                " successful state.",
            )


def _previous_state(
    session: Session, ti: TaskInstanceRow, run: DagRunRow
) -> tuple[str, str | None] | None:
    """The run id and state of the same task in the previous run, if both exist."""
    previous_run = (
        sa.select(DagRunRow.run_id)
        .where(DagRunRow.dag_id == run.dag_id, DagRunRow.logical_date < run.logical_date)
        .order_by(DagRunRow.logical_date.desc())
        .limit(1)
        .scalar_subquery()
    )
    row = TaskInstanceRow
    found = session.execute(
        sa.select(row.run_id, row.state)
        .where(row.dag_id == ti.dag_id, row.run_id == previous_run, row.task_id == ti.task_id)
        .order_by(row.map_index)
        .limit(1)
    ).first()
    return None if found is None else (found[0], found[1])


def _slot_checks(
    session: Session, ti: TaskInstanceRow, dag: SerializedDAG, dag_row: DagRow, task: SerializedTask
) -> Iterator[FailedDependency]:
    pool = pool_repo.get_pool(session, ti.pool)
    if pool is None:
        yield FailedDependency(
            "Pool Slots Available",
            f"Tasks using non-existent pool '{ti.pool}' will not be scheduled",
        )
    elif pool.slots >= 0:
        usage = pool_repo.pool_usage(session, [pool.name]).get(pool.name, pool_repo.PoolUsage())
        occupied = usage.running + usage.queued + (usage.deferred if pool.include_deferred else 0)
        open_slots = pool.slots - occupied
        if open_slots < ti.pool_slots:
            yield FailedDependency(
                "Pool Slots Available",
                f"Not scheduling since there are {open_slots} open slots in pool {pool.name}"
                f" and require {ti.pool_slots} pool slots",
            )
    max_active_tasks = dag_row.max_active_tasks or dag.max_active_tasks
    if max_active_tasks and _active_count(session, ti.dag_id) >= max_active_tasks:
        yield FailedDependency(
            "Task Instance Slots Available",
            f"The maximum number of running tasks ({max_active_tasks}) for this task's DAG"
            f" '{ti.dag_id}' has been reached.",
        )
    limit = task.max_active_tis_per_dag
    if limit is not None and _active_count(session, ti.dag_id, ti.task_id) >= limit:
        yield FailedDependency("Task Concurrency", "The max task concurrency has been reached.")


def _active_count(session: Session, dag_id: str, task_id: str | None = None) -> int:
    row = TaskInstanceRow
    query = sa.select(sa.func.count()).where(row.dag_id == dag_id, row.state.in_(_ACTIVE))
    if task_id is not None:
        query = query.where(row.task_id == task_id)
    return int(session.scalar(query) or 0)
