"""XComs as the API reads them: each with the logical date of its run.

Workers write XComs through :mod:`tradewind.execution.db_xcom`; this module only reads.
Every entry comes joined to its run, because Airflow's ``XCom`` shows the run's
``execution_date``; a page is one query plus its count, whatever its size.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import InvalidInput, NotFound
from tradewind.storage.pagination import DEFAULT_LIMIT, Page
from tradewind.storage.tables import DagRunRow, XComRow


class DatedXCom(NamedTuple):
    """An XCom and the logical date of the run it belongs to."""

    xcom: XComRow
    logical_date: datetime


def _dated() -> sa.Select[XComRow, datetime]:
    return sa.select(XComRow, DagRunRow.logical_date).join(
        DagRunRow, sa.and_(DagRunRow.dag_id == XComRow.dag_id, DagRunRow.run_id == XComRow.run_id)
    )


def list_xcoms(
    session: Session,
    *,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    map_index: int | None = None,
    key: str | None = None,
    dag_ids: Collection[str] | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[DatedXCom]:
    """XComs matching every filter given (None: any), in Airflow's order.

    Ordered by the run's logical date, then task id, DAG id and key (Airflow's order),
    then map index and id so that pages never overlap.

    Args:
        dag_ids: only XComs of these DAGs (the DAGs a user may read).

    Raises:
        InvalidInput: negative limit or offset.
    """
    if limit < 0 or offset < 0:
        raise InvalidInput(f"limit and offset must be >= 0, got limit={limit} offset={offset}")
    x = XComRow
    query = _dated()
    for column, value in (
        (x.dag_id, dag_id),
        (x.run_id, run_id),
        (x.task_id, task_id),
        (x.map_index, map_index),
        (x.key, key),
    ):
        if value is not None:
            query = query.where(column == value)
    if dag_ids is not None:
        query = query.where(x.dag_id.in_(sorted(dag_ids)))
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = (
        query.order_by(DagRunRow.logical_date, x.task_id, x.dag_id, x.key, x.map_index, x.id)
        .limit(limit)
        .offset(offset)
    )
    items = [DatedXCom(row, logical_date) for row, logical_date in session.execute(page)]
    return Page(items=items, total_entries=int(total or 0))


def get_xcom(
    session: Session, dag_id: str, run_id: str, task_id: str, key: str, map_index: int = -1
) -> DatedXCom | None:
    found = session.execute(
        _dated().where(
            XComRow.dag_id == dag_id,
            XComRow.run_id == run_id,
            XComRow.task_id == task_id,
            XComRow.map_index == map_index,
            XComRow.key == key,
        )
    ).one_or_none()
    return None if found is None else DatedXCom(found[0], found[1])


def require_xcom(
    session: Session, dag_id: str, run_id: str, task_id: str, key: str, map_index: int = -1
) -> DatedXCom:
    """Raises NotFound worded as Airflow's API words it."""
    found = get_xcom(session, dag_id, run_id, task_id, key, map_index)
    if found is None:
        raise NotFound("XCom entry not found")
    return found
