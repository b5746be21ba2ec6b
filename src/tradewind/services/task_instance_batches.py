"""What the API's bulk task-instance actions need besides clearing and marking.

``clearTaskInstances`` and ``updateTaskInstancesState`` name their targets the way
Airflow 2.10's API does; :func:`~tradewind.services.task_instances.clear_task_instances`
and :func:`~tradewind.services.task_instances.set_task_instance_state` do the work once
these functions have checked and translated those names:

* ``clearTaskInstances`` names one ``dag_run_id`` or a window over the runs' logical
  dates (``start_date``/``end_date``, inclusive, as Airflow's ``DAG.clear``: a run's own
  start and end do not matter). Task ids the DAG does not have are ignored, as in
  Airflow, where they match no task instance (:func:`dag_to_clear`, :func:`known_tasks`).
* ``updateTaskInstancesState`` names its run by ``dag_run_id`` or by ``execution_date``
  (:func:`run_to_mark`).

Both answer with references showing the logical date of each instance's run, which
:func:`logical_dates` reads in one query.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import InvalidInput, NotFound
from tradewind.serialization import SerializedDAG
from tradewind.services.dags import load_serialized_dag
from tradewind.storage.repositories.dag_runs import get_dag_run_by_logical_date, require_dag_run
from tradewind.storage.tables import DagRunRow


def dag_to_clear(session: Session, dag_id: str, run_id: str | None = None) -> SerializedDAG:
    """The DAG whose task instances are to be cleared, after checking the run named.

    Raises:
        NotFound: no DAG ``dag_id``, or no run ``run_id`` of it.
    """
    dag = load_serialized_dag(session, dag_id)
    if run_id is not None:
        require_dag_run(session, dag_id, run_id)
    return dag


def known_tasks(dag: SerializedDAG, task_ids: Collection[str] | None) -> list[str] | None:
    """``task_ids`` without those ``dag`` has not (None, meaning all tasks, stays None)."""
    return None if task_ids is None else [task for task in task_ids if task in dag.task_dict]


def run_to_mark(
    session: Session,
    dag_id: str,
    task_id: str,
    *,
    run_id: str | None = None,
    logical_date: datetime | None = None,
) -> str:
    """The id of the run named by ``run_id`` or ``logical_date`` (exactly one of them),
    after checking the DAG and its task, in Airflow's order.

    Raises:
        InvalidInput: neither or both of ``run_id`` and ``logical_date``.
        NotFound: no such DAG, task, or run at ``logical_date``.
    """
    if (run_id is None) == (logical_date is None):
        raise InvalidInput("Exactly one of execution_date or dag_run_id must be provided")
    load_serialized_dag(session, dag_id).get_task(task_id)
    if run_id is not None:
        return run_id
    assert logical_date is not None
    run = get_dag_run_by_logical_date(session, dag_id, logical_date)
    if run is None:
        raise NotFound(
            f"Task instance not found for task {task_id!r} on execution_date"
            f" {logical_date.isoformat()}"
        )
    return run.run_id


def logical_dates(session: Session, dag_id: str, run_ids: Collection[str]) -> dict[str, datetime]:
    """The logical date of each of ``run_ids`` of ``dag_id`` (missing runs left out)."""
    if not run_ids:
        return {}
    rows = session.execute(
        sa.select(DagRunRow.run_id, DagRunRow.logical_date).where(
            DagRunRow.dag_id == dag_id, DagRunRow.run_id.in_(sorted(run_ids))
        )
    )
    return {run_id: logical_date for run_id, logical_date in rows}
