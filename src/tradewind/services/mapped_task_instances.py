"""Listing the expansions of a mapped task (``map_index >= 0``) in one run.

Zero expansions is an answer, not an error, for a mapped task (it may have expanded
to an empty list); for any other task it means the caller asked the wrong question,
which Airflow reports as a 404 naming the reason. Those reasons are only looked up
when the list is empty, so a normal call is one count and one page query.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tradewind.errors import NotFound
from tradewind.services.dags import load_serialized_dag
from tradewind.storage.pagination import Page
from tradewind.storage.repositories import task_instances as ti_repo
from tradewind.storage.tables import TaskInstanceRow


def list_mapped_task_instances(
    session: Session,
    dag_id: str,
    run_id: str,
    task_id: str,
    *,
    order_by: str = "map_index",
    limit: int,
    offset: int,
    **filters: Any,
) -> Page[TaskInstanceRow]:
    """The expansions of ``task_id`` in ``run_id``, filtered as ``list_task_instances``.

    Raises:
        NotFound: the task has no expansions and the DAG or task is unknown, or the
            task is not mapped.
        InvalidInput: unknown ``order_by`` column or a bad filter.
    """
    scope: dict[str, Any] = {"task_ids": [task_id], "mapped_only": True}
    if ti_repo.list_task_instances(session, dag_id, run_id, limit=0, **scope).total_entries == 0:
        _require_mapped_task(session, dag_id, task_id)
    return ti_repo.list_task_instances(
        session,
        dag_id,
        run_id,
        order_by=order_by,
        limit=limit,
        offset=offset,
        **scope,
        **filters,
    )


def _require_mapped_task(session: Session, dag_id: str, task_id: str) -> None:
    try:
        dag = load_serialized_dag(session, dag_id)
    except NotFound:
        raise NotFound(f"DAG {dag_id} not found") from None
    if task_id not in dag.task_dict:
        raise NotFound(f"Task id {task_id} not found")
    if not dag.task_dict[task_id].is_mapped:
        raise NotFound(f"Task id {task_id} is not mapped")
