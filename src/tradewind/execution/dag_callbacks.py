"""Running a DAG's ``on_success_callback`` / ``on_failure_callback`` for a finished run.

Task-level callbacks run in the worker, inside the try (``runner.py``). DAG-level
ones run after the run has finished, in a process the scheduler forks for the
purpose (``tradewind.scheduler.callbacks``), which calls :func:`run_dag_callbacks`.
The context is Airflow 2.10's (``DAG.handle_callback``): the template context of one
task instance of the run (the last one to end in failure for a failure callback,
else the last one to end), plus ``reason``: ``success``, ``task_failure`` or
``timed_out``. A callback that raises is logged and does not stop the others.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tradewind.errors import NotFound
from tradewind.execution.database_accessors import (
    DatabaseConnectionAccessor,
    DatabaseVariableAccessor,
)
from tradewind.execution.db_xcom import DatabaseXComStore
from tradewind.execution.in_process_run import InProcessDagRun
from tradewind.execution.memory import LocalTaskInstance
from tradewind.execution.try_run import DagCache, DagLoader
from tradewind.sdk.context import build_template_context
from tradewind.storage.engine import transaction
from tradewind.storage.tables import DagRunRow, TaskInstanceRow

logger = logging.getLogger(__name__)

_FAILED = ("failed", "upstream_failed")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def run_dag_callbacks(
    sessions: sessionmaker[Session],
    dag_loader: DagLoader,
    *,
    dag_id: str,
    run_id: str,
    fileloc: str,
    is_failure: bool,
    reason: str,
) -> int:
    """Import the DAG from ``fileloc`` and call its success or failure callbacks.

    Returns:
        How many callbacks were called (those that raised included).

    Raises:
        NotFound: the DAG file cannot be imported or no longer defines ``dag_id``, or
            the run no longer exists (deleted meanwhile): nothing can be called.
    """
    dag = DagCache(dag_loader).get(fileloc, dag_id)
    found = dag.on_failure_callback if is_failure else dag.on_success_callback
    callbacks = found if isinstance(found, list) else [found] if found is not None else []
    if not callbacks:
        return 0
    with transaction(sessions) as session:
        run = session.scalars(
            sa.select(DagRunRow).where(DagRunRow.dag_id == dag_id, DagRunRow.run_id == run_id)
        ).one_or_none()
        if run is None:
            raise NotFound(f"DAG run {dag_id}/{run_id} does not exist any more")
        tis = session.scalars(
            sa.select(TaskInstanceRow).where(
                TaskInstanceRow.dag_id == dag_id, TaskInstanceRow.run_id == run_id
            )
        ).all()
        session.expunge_all()
    ti_row = _relevant_ti(list(tis), is_failure)
    task_id = ti_row.task_id if ti_row is not None and ti_row.task_id in dag.task_dict else None
    task = dag.task_dict[task_id] if task_id else next(iter(dag.task_dict.values()), None)
    if task is None:
        raise NotFound(f"DAG {dag_id!r} has no task to build a callback context from")
    context = _context(dag, task, run, ti_row, sessions, reason)
    for callback in callbacks:
        try:
            callback(context)
        except Exception:
            logger.exception("DAG %s callback %r for run %s raised", dag_id, callback, run_id)
    return len(callbacks)


def _relevant_ti(tis: list[TaskInstanceRow], is_failure: bool) -> TaskInstanceRow | None:
    def ended(ti: TaskInstanceRow) -> tuple[datetime, int]:
        return (ti.end_date or _EPOCH, ti.id)

    failed = [ti for ti in tis if ti.state in _FAILED]
    pool = failed if is_failure and failed else tis
    return max(pool, key=ended, default=None)


def _context(
    dag: Any,
    task: Any,
    run: DagRunRow,
    ti_row: TaskInstanceRow | None,
    sessions: sessionmaker[Session],
    reason: str,
) -> dict[str, Any]:
    start = run.start_date or run.queued_at or run.logical_date
    dag_run = InProcessDagRun(
        dag_id=run.dag_id,
        run_id=run.run_id,
        logical_date=run.logical_date,
        data_interval_start=run.data_interval_start or run.logical_date,
        data_interval_end=run.data_interval_end or run.logical_date,
        conf=dict(run.conf or {}),
        start_date=start,
        run_type=run.run_type,
        external_trigger=bool(run.external_trigger),
        state=run.state or "",
    )
    ti = LocalTaskInstance(
        dag_id=run.dag_id,
        task_id=task.task_id,
        run_id=run.run_id,
        xcom_store=DatabaseXComStore(sessions),
        try_number=ti_row.try_number if ti_row is not None else 0,
        max_tries=ti_row.max_tries if ti_row is not None else 0,
        map_index=ti_row.map_index if ti_row is not None else -1,
        task=task,
        logical_date=run.logical_date,
        state=ti_row.state if ti_row is not None else None,
        start_date=ti_row.start_date if ti_row is not None else None,
        end_date=ti_row.end_date if ti_row is not None else None,
    )
    context = build_template_context(
        dag=dag,
        task=task,
        run_id=run.run_id,
        logical_date=run.logical_date,
        data_interval_start=dag_run.data_interval_start,
        data_interval_end=dag_run.data_interval_end,
        run_type=run.run_type,
        conf=dag_run.conf,
        ti=ti,
        dag_run=dag_run,
        var=DatabaseVariableAccessor(sessions),
        conn=DatabaseConnectionAccessor(sessions),
    )
    context["reason"] = reason
    return context
