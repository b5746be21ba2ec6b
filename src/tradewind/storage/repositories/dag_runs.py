"""DAG runs (API ``/dags/{dag_id}/dagRuns``, CLI ``dags list-runs`` / ``dags state``).

Error wording follows Airflow 2's API, which clients match on:
``DAGRun with DAG ID: 'x' and DAGRun ID: 'y' not found`` and the two ``already exists``
forms of :func:`create_dag_run`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict, Unpack

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import AlreadyExists, NotFound
from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate, paginate_rows
from tradewind.storage.repositories._queries import order_clauses, where_between
from tradewind.storage.repositories._writes import unique_write
from tradewind.storage.tables import DagRunRow

#: Columns a list of runs may be ordered by (``-name`` for descending); ``id`` breaks ties.
ORDERABLE = (
    "id",
    "dag_id",
    "run_id",
    "state",
    "run_type",
    "logical_date",
    "start_date",
    "end_date",
    "queued_at",
    "updated_at",
    "external_trigger",
)


def get_dag_run(session: Session, dag_id: str, run_id: str) -> DagRunRow | None:
    return session.scalar(
        sa.select(DagRunRow).where(DagRunRow.dag_id == dag_id, DagRunRow.run_id == run_id)
    )


def require_dag_run(session: Session, dag_id: str, run_id: str) -> DagRunRow:
    """Raises NotFound, worded as Airflow's API words it."""
    run = get_dag_run(session, dag_id, run_id)
    if run is None:
        raise NotFound(f"DAGRun with DAG ID: '{dag_id}' and DAGRun ID: '{run_id}' not found")
    return run


def get_dag_run_by_logical_date(
    session: Session, dag_id: str, logical_date: datetime
) -> DagRunRow | None:
    return session.scalar(
        sa.select(DagRunRow).where(
            DagRunRow.dag_id == dag_id, DagRunRow.logical_date == logical_date
        )
    )


class RunDates(TypedDict, total=False):
    """Inclusive date bounds of a list of runs or task instances; a None (or absent)
    bound is open. The API reads them from a query string (``api.query_dates``)."""

    logical_date_gte: datetime | None
    logical_date_lte: datetime | None
    start_date_gte: datetime | None
    start_date_lte: datetime | None
    end_date_gte: datetime | None
    end_date_lte: datetime | None
    updated_at_gte: datetime | None
    updated_at_lte: datetime | None


class RunFilters(RunDates, total=False):
    """What a list of runs may be narrowed by: its :class:`RunDates` and these values (a
    None or absent filter is not applied, an empty sequence matches nothing)."""

    dag_ids: Sequence[str] | None
    run_ids: Sequence[str] | None
    states: Sequence[str] | None
    run_types: Sequence[str] | None


def list_dag_runs(
    session: Session,
    dag_id: str | None = None,
    *,
    order_by: str = "id",
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    **filters: Unpack[RunFilters],
) -> Page[DagRunRow]:
    """Runs of ``dag_id`` (of every DAG when None, or of ``dag_ids``), filtered.

    Raises:
        InvalidInput: ``order_by`` names a column outside :data:`ORDERABLE`, or a
            negative limit/offset.
    """
    query = _listed(sa.select(DagRunRow), dag_id, order_by, filters)
    return paginate(session, query, limit=limit, offset=offset)


#: The ``dag_run`` columns a list of runs shows (API ``DAGRun``).
LISTED_COLUMNS: tuple[sa.ColumnElement[Any], ...] = tuple(
    DagRunRow.__table__.c[name]
    for name in (
        "run_id",
        "dag_id",
        "logical_date",
        "start_date",
        "end_date",
        "data_interval_start",
        "data_interval_end",
        "last_scheduling_decision",
        "run_type",
        "state",
        "external_trigger",
        "conf",
        "note",
    )
)


def list_dag_run_records(
    session: Session,
    dag_id: str | None = None,
    *,
    order_by: str = "id",
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    **filters: Unpack[RunFilters],
) -> Page[sa.Row[Any]]:
    """What :func:`list_dag_runs` lists, as plain rows of :data:`LISTED_COLUMNS`: for
    lists that only show them (ORM objects cost more than the query).

    Raises:
        InvalidInput: as :func:`list_dag_runs`.
    """
    query = _listed(sa.select(*LISTED_COLUMNS), dag_id, order_by, filters)
    return paginate_rows(session, query, limit=limit, offset=offset)


def _listed(
    query: sa.Select[Any], dag_id: str | None, order_by: str, filters: RunFilters
) -> sa.Select[Any]:
    """``query`` over ``dag_run`` narrowed by ``dag_id`` and ``filters``, ordered."""
    if dag_id is not None:
        query = query.where(DagRunRow.dag_id == dag_id)
    for column, values in (
        (DagRunRow.dag_id, filters.get("dag_ids")),
        (DagRunRow.run_id, filters.get("run_ids")),
        (DagRunRow.state, filters.get("states")),
        (DagRunRow.run_type, filters.get("run_types")),
    ):
        if values is not None:
            query = query.where(column.in_(list(values)))
    bounds: tuple[tuple[Any, datetime | None, datetime | None], ...] = (
        (DagRunRow.logical_date, filters.get("logical_date_gte"), filters.get("logical_date_lte")),
        (DagRunRow.start_date, filters.get("start_date_gte"), filters.get("start_date_lte")),
        (DagRunRow.end_date, filters.get("end_date_gte"), filters.get("end_date_lte")),
        (DagRunRow.updated_at, filters.get("updated_at_gte"), filters.get("updated_at_lte")),
    )
    for column, low, high in bounds:
        query = where_between(query, column, low, high)
    return query.order_by(*order_clauses(DagRunRow, order_by, ORDERABLE))


def create_dag_run(session: Session, run: DagRunRow) -> DagRunRow:
    """Insert ``run``, flushed in a savepoint.

    Raises:
        AlreadyExists: the DAG already has a run with this run id or logical date, in
            Airflow's wording; nothing is left in the session.
    """
    found = session.scalar(
        sa.select(DagRunRow)
        .where(
            DagRunRow.dag_id == run.dag_id,
            sa.or_(DagRunRow.run_id == run.run_id, DagRunRow.logical_date == run.logical_date),
        )
        .limit(1)
    )
    if found is not None:
        raise AlreadyExists(_duplicate_message(run, found))
    # A concurrent insert can still win between the check and the flush.
    with unique_write(session, _duplicate_message(run, None)):
        session.add(run)
    return run


def _duplicate_message(run: DagRunRow, found: DagRunRow | None) -> str:
    if found is not None and found.run_id != run.run_id:
        date = run.logical_date.isoformat(sep=" ")
        return (
            f"DAGRun with DAG ID: '{run.dag_id}' and DAGRun logical date: '{date}' already exists"
        )
    return f"DAGRun with DAG ID: '{run.dag_id}' and DAGRun ID: '{run.run_id}' already exists"


def delete_dag_run(session: Session, dag_id: str, run_id: str) -> None:
    """Delete a run and, by cascade, its task instances, history, XComs and reschedules.

    Raises:
        NotFound: no such run.
    """
    run = require_dag_run(session, dag_id, run_id)
    session.delete(run)
    session.flush()
