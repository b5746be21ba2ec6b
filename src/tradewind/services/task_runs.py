"""Running one task instance by hand (``tradewind tasks run``): which try, and may it run?

Airflow 2.10's ``tasks run`` runs an existing task instance for real, recording it.
Tradewind runs it through the worker's own path: this module decides and makes the
``queued`` try (in the caller's transaction); the caller then hands it, as a
``TaskWorkload``, to :func:`tradewind.execution.worker.run_workload`, which claims it
(``queued -> running``, guarded), runs it, writes its log and records its outcome.

By the task instance's state:

- ``queued``: the scheduler queued this try; it is run as it is (its try number), and
  the guarded claim decides between this command and the executor's worker.
- ``None``, ``scheduled``, ``up_for_retry``: a new try. The row moves to ``queued``
  with ``try_number + 1``, guarded on the state and try number just read.
- ``success``, ``failed``, ``skipped``, ``upstream_failed``, ``up_for_reschedule``,
  ``removed``: only with ``force`` (Airflow's ``--force``: ignore the state); the
  current try is archived to history first, then as above.
- ``running``, ``restarting``, ``deferred``: never; a worker (or trigger) holds it.

Dependencies, checked for a new try unless ``ignore_dependencies`` (Airflow's
``--ignore-dependencies``: "upstream, depends_on_past, and retry delay"): the trigger
rule over the direct upstream task instances of the run must say RUN;
``depends_on_past`` / ``wait_for_downstream`` tasks need the same task of the previous
run to be ``success`` or ``skipped``; an ``up_for_retry`` try waits out its retry delay.
Pools, concurrency limits and the run's state are not checked: the user asked for this
one try to run now (Airflow's ``--ignore-all-dependencies`` would skip those too).

Between the commit and the claim, the scheduler's orphan check may take the ``queued``
row back; the claim then fails, nothing runs, and the caller says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import Conflict
from tradewind.sdk.states import TaskInstanceState
from tradewind.sdk.trigger_rules import UpstreamStates, Verdict, evaluate
from tradewind.serialization import SerializedDAG, SerializedTask, deserialize_dag
from tradewind.services.audit import record_event
from tradewind.services.dag_runs import require_dag_run_by_id_or_date
from tradewind.services.dags import require_serialized_dag_row
from tradewind.storage.repositories import task_instances as ti_repo
from tradewind.storage.tables import DagRunRow, TaskInstanceRow

_TI = TaskInstanceState
#: States a new try may start from without ``force``.
RUNNABLE_STATES = frozenset({None, _TI.SCHEDULED, _TI.UP_FOR_RETRY})
#: States a new try may start from only with ``force``.
FORCEABLE_STATES = frozenset(
    {
        _TI.SUCCESS,
        _TI.FAILED,
        _TI.SKIPPED,
        _TI.UPSTREAM_FAILED,
        _TI.UP_FOR_RESCHEDULE,
        _TI.REMOVED,
    }
)
_PAST_OK = frozenset({_TI.SUCCESS, _TI.SKIPPED})

#: The worker's retry-delay rule, ``(dag_id, task, failed try number, logical date) ->
#: delay``; passed in because it lives in ``tradewind.execution``, above this layer.
RetryDelay = Callable[[str, SerializedTask, int, datetime], timedelta]


@dataclass(frozen=True)
class PreparedTry:
    """A ``queued`` try ready for ``run_workload``: the fields of a ``TaskWorkload``
    plus the state the task instance had before (``previous_state``)."""

    ti_id: int
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    fileloc: str
    pool: str
    queue: str
    priority_weight: int
    executor_config: dict[str, object] | None
    previous_state: str | None

    def workload_fields(self) -> dict[str, Any]:
        """Keyword arguments of ``TaskWorkload``."""
        fields = dict(self.__dict__)
        del fields["previous_state"]
        return fields


def prepare_task_run(
    session: Session,
    dag_id: str,
    task_id: str,
    run_id_or_logical_date: str,
    map_index: int = -1,
    *,
    now: datetime,
    force: bool = False,
    ignore_dependencies: bool = False,
    retry_delay: RetryDelay | None = None,
    owner: str | None = None,
) -> PreparedTry:
    """Make the try of one task instance that ``tasks run`` runs (module doc).

    Args:
        run_id_or_logical_date: a run id, or a logical date (ISO 8601) of a run.
        force: start a new try from a finished state too.
        ignore_dependencies: skip the trigger-rule, past and retry-delay checks.
        retry_delay: the worker's retry-delay rule; None skips the retry-delay check.

    Raises:
        NotFound: unknown DAG, run, task or task instance.
        Conflict: the state forbids a run (held by a worker, or finished without
            ``force``), a dependency is not met (the message lists them), or the row
            changed between the read and the guarded update.
    """
    serialized_row = require_serialized_dag_row(session, dag_id)
    dag = deserialize_dag(serialized_row.data)
    task = dag.get_task(task_id)
    run = require_dag_run_by_id_or_date(session, dag_id, run_id_or_logical_date)
    ti = ti_repo.require_task_instance(session, dag_id, run.run_id, task_id, map_index)
    previous = ti.state
    if previous != _TI.QUEUED:
        ti = _new_try(session, dag, task, run, ti, now, force, ignore_dependencies, retry_delay)
    record_event(
        session,
        "task_run",
        now=now,
        owner=owner,
        dag_id=dag_id,
        run_id=run.run_id,
        task_id=task_id,
        map_index=map_index,
        extra={"previous_state": previous, "try_number": ti.try_number, "force": force},
    )
    return _prepared(ti, serialized_row.fileloc, previous)


def _new_try(
    session: Session,
    dag: SerializedDAG,
    task: SerializedTask,
    run: DagRunRow,
    ti: TaskInstanceRow,
    now: datetime,
    force: bool,
    ignore_dependencies: bool,
    retry_delay: RetryDelay | None,
) -> TaskInstanceRow:
    """Check the state and dependencies, then queue ``ti``'s next try (module doc)."""
    label = _label(ti)
    previous = ti.state
    if previous not in RUNNABLE_STATES:
        if previous not in FORCEABLE_STATES:
            raise Conflict(f"{label} is {previous}: a worker holds it; it cannot be run now")
        if not force:
            raise Conflict(
                f"{label} is in the {previous!r} state; use --force to run it again anyway"
            )
    if not ignore_dependencies:
        unmet = _unmet_dependencies(session, dag, task, run, ti, now, retry_delay)
        if unmet:
            raise Conflict(
                f"Dependencies of {label} are not met: {'; '.join(unmet)} "
                "(--ignore-dependencies runs it anyway)"
            )
    if previous in FORCEABLE_STATES:
        ti_repo.archive_tries(session, [ti])
    return _queue_new_try(session, ti, now, label)


def _queue_new_try(
    session: Session, ti: TaskInstanceRow, now: datetime, label: str
) -> TaskInstanceRow:
    row = TaskInstanceRow
    result = session.execute(
        sa.update(row)
        .where(
            row.id == ti.id,
            row.state.is_not_distinct_from(ti.state),
            row.try_number == ti.try_number,
        )
        .values(
            state=_TI.QUEUED.value,
            try_number=ti.try_number + 1,
            queued_dttm=now,
            queued_by_job_id=None,
            start_date=None,
            end_date=None,
            duration=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"{label} changed while it was being queued; try again")
    session.refresh(ti)
    return ti


def _prepared(ti: TaskInstanceRow, fileloc: str, previous: str | None) -> PreparedTry:
    return PreparedTry(
        ti_id=ti.id,
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        task_id=ti.task_id,
        map_index=ti.map_index,
        try_number=ti.try_number,
        fileloc=fileloc,
        pool=ti.pool,
        queue=ti.queue,
        priority_weight=ti.priority_weight,
        executor_config=dict(ti.executor_config) if ti.executor_config else None,
        previous_state=previous,
    )


def _unmet_dependencies(
    session: Session,
    dag: SerializedDAG,
    task: SerializedTask,
    run: DagRunRow,
    ti: TaskInstanceRow,
    now: datetime,
    retry_delay: RetryDelay | None,
) -> list[str]:
    """Why the new try may not start yet, one reason per unmet dependency."""
    unmet: list[str] = []
    if task.upstream_task_ids:
        states = session.scalars(
            sa.select(TaskInstanceRow.state).where(
                TaskInstanceRow.dag_id == dag.dag_id,
                TaskInstanceRow.run_id == run.run_id,
                TaskInstanceRow.task_id.in_(task.upstream_task_ids),
            )
        ).all()
        upstream = UpstreamStates.count(states)
        verdict = evaluate(task.trigger_rule, upstream)
        if verdict != Verdict.RUN:
            unmet.append(
                f"trigger rule {task.trigger_rule.value} says {verdict.value} "
                f"({upstream.success} of {upstream.total} upstream succeeded, "
                f"{upstream.done} done)"
            )
    if task.depends_on_past or task.wait_for_downstream:
        past = _previous_states(session, dag.dag_id, task.task_id, run.logical_date)
        bad = sorted({str(state) for state in past if state not in _PAST_OK})
        if bad:
            unmet.append(f"depends_on_past: the previous run's {task.task_id} is {', '.join(bad)}")
    if ti.state == _TI.UP_FOR_RETRY and retry_delay is not None and ti.end_date is not None:
        due = ti.end_date + retry_delay(dag.dag_id, task, ti.try_number, run.logical_date)
        if due > now:
            unmet.append(f"retry delay: the next try is due at {due.isoformat()}")
    return unmet


def _previous_states(
    session: Session, dag_id: str, task_id: str, logical_date: datetime
) -> list[str | None]:
    """States of ``task_id`` in the run just before ``logical_date`` (none: no such run)."""
    previous_run = (
        sa.select(DagRunRow.run_id)
        .where(DagRunRow.dag_id == dag_id, DagRunRow.logical_date < logical_date)
        .order_by(DagRunRow.logical_date.desc())
        .limit(1)
        .scalar_subquery()
    )
    return list(
        session.scalars(
            sa.select(TaskInstanceRow.state).where(
                TaskInstanceRow.dag_id == dag_id,
                TaskInstanceRow.run_id == previous_run,
                TaskInstanceRow.task_id == task_id,
            )
        )
    )


def _label(ti: TaskInstanceRow) -> str:
    index = "" if ti.map_index < 0 else f" [{ti.map_index}]"
    return f"<TaskInstance: {ti.dag_id}.{ti.task_id} {ti.run_id}{index} [{ti.state}]>"
