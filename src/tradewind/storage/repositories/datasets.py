"""Datasets, their events, and the queue of updates dataset-scheduled DAGs wait on.

Reads back ``/datasets``, ``/datasets/events`` and the queued-event endpoints; the
writes (:func:`create_event`, :func:`queue_consumers`) are what a dataset update
does, whoever makes it (a task's outlet, ``POST /datasets/events``). Related rows of a
page (references, URIs, created runs) are loaded with one ``IN`` query per kind.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import NotFound
from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate
from tradewind.storage.repositories._queries import insert_ignoring_conflicts, order_clauses
from tradewind.storage.tables import (
    DagRow,
    DagRunRow,
    DagScheduleDatasetReferenceRow,
    DatasetDagRunQueueRow,
    DatasetEventRow,
    DatasetRow,
    TaskOutletDatasetReferenceRow,
    dagrun_dataset_event,
)

#: Columns ``list_datasets`` may order by (Airflow's).
ORDERABLE_DATASETS = ("id", "uri", "created_at", "updated_at")
#: Columns ``list_events`` may order by (Airflow's).
ORDERABLE_EVENTS = (
    "source_dag_id",
    "source_task_id",
    "source_run_id",
    "source_map_index",
    "timestamp",
)

_QUEUE = DatasetDagRunQueueRow
_LINK = dagrun_dataset_event


# -- datasets ------------------------------------------------------------------------


def get_dataset(session: Session, uri: str) -> DatasetRow | None:
    return session.scalar(sa.select(DatasetRow).where(DatasetRow.uri == uri))


#: A URI whose ``//`` after the scheme was merged into one ``/``.
_MERGED_SLASHES = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/(?!/)")


def resolve_uri(session: Session, uri: str) -> str:
    """The stored URI that a URI taken from a request path names.

    The spec lets clients send a URI unencoded in the path (``format: path``), and
    clients or proxies that normalise paths then merge the ``//`` after its scheme:
    ``s3:/bucket/key`` names ``s3://bucket/key``, unless a dataset has that very URI.
    Costs a query only for URIs of that merged form.
    """
    restored = _MERGED_SLASHES.sub(r"\1://", uri, count=1)
    if restored == uri:
        return uri
    stored = set(
        session.scalars(sa.select(DatasetRow.uri).where(DatasetRow.uri.in_([uri, restored])))
    )
    return restored if restored in stored and uri not in stored else uri


def require_dataset(session: Session, uri: str) -> DatasetRow:
    """The dataset ``uri`` names (see :func:`resolve_uri`).

    Raises:
        NotFound: no dataset has ``uri``.
    """
    row = get_dataset(session, resolve_uri(session, uri))
    if row is None:
        raise NotFound(f"The Dataset with uri: `{uri}` was not found")
    return row


def list_datasets(
    session: Session,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    order_by: str | None = None,
    uri_pattern: str | None = None,
    dag_ids: Collection[str] | None = None,
) -> Page[DatasetRow]:
    """Datasets ordered by ``order_by`` (by id when None).

    Args:
        uri_pattern: keep URIs containing it, case-insensitively (``%`` and ``_`` are
            literal characters).
        dag_ids: keep datasets these DAGs are scheduled on or whose tasks update.

    Raises:
        InvalidInput: ``order_by`` names a column not in :data:`ORDERABLE_DATASETS`.
    """
    clauses = order_clauses(DatasetRow, order_by or "id", ORDERABLE_DATASETS)
    query = sa.select(DatasetRow).order_by(*clauses)
    if uri_pattern:
        query = query.where(DatasetRow.uri.icontains(uri_pattern, autoescape=True))
    if dag_ids:
        consumed = sa.select(DagScheduleDatasetReferenceRow.dataset_id).where(
            DagScheduleDatasetReferenceRow.dag_id.in_(dag_ids)
        )
        produced = sa.select(TaskOutletDatasetReferenceRow.dataset_id).where(
            TaskOutletDatasetReferenceRow.dag_id.in_(dag_ids)
        )
        query = query.where(sa.or_(DatasetRow.id.in_(consumed), DatasetRow.id.in_(produced)))
    return paginate(session, query, limit=limit, offset=offset)


@dataclass(frozen=True)
class DatasetReferences:
    """Per dataset id: the DAGs scheduled on it and the tasks that update it."""

    consuming: dict[int, list[DagScheduleDatasetReferenceRow]]
    producing: dict[int, list[TaskOutletDatasetReferenceRow]]


def dataset_references(session: Session, dataset_ids: Collection[int]) -> DatasetReferences:
    """The references of ``dataset_ids``: two queries, whatever their number."""
    consuming: defaultdict[int, list[DagScheduleDatasetReferenceRow]] = defaultdict(list)
    producing: defaultdict[int, list[TaskOutletDatasetReferenceRow]] = defaultdict(list)
    if dataset_ids:
        schedule = DagScheduleDatasetReferenceRow
        for ref in session.scalars(
            sa.select(schedule)
            .where(schedule.dataset_id.in_(dataset_ids))
            .order_by(schedule.dag_id)
        ):
            consuming[ref.dataset_id].append(ref)
        outlet = TaskOutletDatasetReferenceRow
        for task_ref in session.scalars(
            sa.select(outlet)
            .where(outlet.dataset_id.in_(dataset_ids))
            .order_by(outlet.dag_id, outlet.task_id)
        ):
            producing[task_ref.dataset_id].append(task_ref)
    return DatasetReferences(dict(consuming), dict(producing))


#: The datasets a task updates: built once, as every successful try runs it.
_OUTLETS = sa.select(TaskOutletDatasetReferenceRow.dataset_id).where(
    TaskOutletDatasetReferenceRow.dag_id == sa.bindparam("p_dag_id"),
    TaskOutletDatasetReferenceRow.task_id == sa.bindparam("p_task_id"),
)


def outlet_datasets(session: Session, dag_id: str, task_id: str) -> list[DatasetRow]:
    """The datasets the task ``dag_id.task_id`` updates (its stored ``outlets``).

    One prebuilt Core query for a task without outlets (most tasks), which a
    successful try pays; a second only when there are some.
    """
    ids = session.execute(_OUTLETS, {"p_dag_id": dag_id, "p_task_id": task_id}).scalars().all()
    if not ids:
        return []
    return list(
        session.scalars(sa.select(DatasetRow).where(DatasetRow.id.in_(ids)).order_by(DatasetRow.id))
    )


# -- events --------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilter:
    """``/datasets/events`` filters; None leaves a column unfiltered."""

    dataset_id: int | None = None
    source_dag_id: str | None = None
    source_task_id: str | None = None
    source_run_id: str | None = None
    source_map_index: int | None = None


def list_events(
    session: Session,
    filters: EventFilter,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    order_by: str | None = None,
) -> Page[DatasetEventRow]:
    """Dataset events matching ``filters``, ordered by ``order_by`` (timestamp when None).

    Raises:
        InvalidInput: ``order_by`` names a column not in :data:`ORDERABLE_EVENTS`.
    """
    event = DatasetEventRow
    query = sa.select(event).order_by(
        *order_clauses(event, order_by or "timestamp", ORDERABLE_EVENTS)
    )
    for name, value in vars(filters).items():
        if value is not None:
            query = query.where(getattr(event, name) == value)
    return paginate(session, query, limit=limit, offset=offset)


class TaskSource(NamedTuple):
    """The task instance whose success updated a dataset."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int


def create_event(
    session: Session,
    dataset_id: int,
    *,
    timestamp: datetime,
    extra: dict[str, Any] | None,
    source: TaskSource | None = None,
) -> DatasetEventRow:
    """Record one update of a dataset (flushed: the row has its id)."""
    row = DatasetEventRow(dataset_id=dataset_id, extra=extra, timestamp=timestamp)
    if source is not None:
        row.source_dag_id = source.dag_id
        row.source_task_id = source.task_id
        row.source_run_id = source.run_id
        row.source_map_index = source.map_index
    else:
        row.source_map_index = -1
    session.add(row)
    session.flush()
    return row


def dataset_uris(session: Session, dataset_ids: Collection[int]) -> dict[int, str]:
    """The URI of each dataset id (one query)."""
    if not dataset_ids:
        return {}
    rows = session.execute(
        sa.select(DatasetRow.id, DatasetRow.uri).where(DatasetRow.id.in_(dataset_ids))
    )
    return {dataset_id: uri for dataset_id, uri in rows}


def created_dagruns(session: Session, event_ids: Collection[int]) -> dict[int, list[DagRunRow]]:
    """The runs each event helped trigger (one query), oldest logical date first."""
    if not event_ids:
        return {}
    found: defaultdict[int, list[DagRunRow]] = defaultdict(list)
    rows = session.execute(
        sa.select(_LINK.c.event_id, DagRunRow)
        .join(DagRunRow, DagRunRow.id == _LINK.c.dag_run_id)
        .where(_LINK.c.event_id.in_(event_ids))
        .order_by(DagRunRow.logical_date, DagRunRow.id)
    )
    for event_id, run in rows:
        found[event_id].append(run)
    return dict(found)


def events_consumed_by_run(session: Session, dag_run_id: int) -> list[DatasetEventRow]:
    """The events that triggered the run whose surrogate id is ``dag_run_id``
    (``/dags/{dag_id}/dagRuns/{dag_run_id}/upstreamDatasetEvents``), oldest first."""
    return list(
        session.scalars(
            sa.select(DatasetEventRow)
            .join(_LINK, _LINK.c.event_id == DatasetEventRow.id)
            .where(_LINK.c.dag_run_id == dag_run_id)
            .order_by(DatasetEventRow.timestamp, DatasetEventRow.id)
        )
    )


def link_events_to_run(session: Session, dag_run_id: int, event_ids: Iterable[int]) -> None:
    """Record that the events ``event_ids`` triggered run ``dag_run_id``."""
    rows = [{"dag_run_id": dag_run_id, "event_id": event_id} for event_id in event_ids]
    if rows:
        session.execute(sa.insert(_LINK), rows)


# -- the queue of dataset-triggered DAGs ----------------------------------------------


def queue_consumers(session: Session, dataset_id: int, *, now: datetime) -> list[str]:
    """Queue the update of ``dataset_id`` for every active, unpaused DAG scheduled on it.

    A DAG that already has this dataset queued keeps its older entry (``created_at``
    unchanged), as in Airflow: a concurrent insert of the same row is not an error.
    Paused DAGs get nothing queued while paused (Airflow 2.10).

    Returns:
        The dag_ids the update was queued for.
    """
    dag_ids = list(
        session.scalars(
            sa.select(DagScheduleDatasetReferenceRow.dag_id)
            .join(DagRow, DagRow.dag_id == DagScheduleDatasetReferenceRow.dag_id)
            .where(
                DagScheduleDatasetReferenceRow.dataset_id == dataset_id,
                DagRow.is_active,
                sa.not_(DagRow.is_paused),
            )
            .order_by(DagScheduleDatasetReferenceRow.dag_id)
        )
    )
    if dag_ids:
        rows = [
            {"dataset_id": dataset_id, "target_dag_id": dag_id, "created_at": now}
            for dag_id in dag_ids
        ]
        session.execute(insert_ignoring_conflicts(session, DatasetDagRunQueueRow), rows)
    return dag_ids


class QueuedDatasetEvent(NamedTuple):
    """One queued dataset update a DAG waits on (API ``QueuedEvent``)."""

    uri: str
    dag_id: str
    created_at: datetime


@dataclass(frozen=True)
class QueueFilter:
    """Which queued updates: None leaves a criterion out.

    Attributes:
        dag_id: of this target DAG.
        uri: of this dataset.
        before: queued strictly before this instant.
        dag_ids: of these target DAGs only (a caller's readable DAGs).
    """

    dag_id: str | None = None
    uri: str | None = None
    before: datetime | None = None
    dag_ids: Collection[str] | None = None

    def clauses(self) -> list[sa.ColumnElement[bool]]:
        found: list[sa.ColumnElement[bool]] = []
        if self.dag_id is not None:
            found.append(_QUEUE.target_dag_id == self.dag_id)
        if self.uri is not None:
            found.append(
                _QUEUE.dataset_id.in_(sa.select(DatasetRow.id).where(DatasetRow.uri == self.uri))
            )
        if self.before is not None:
            found.append(_QUEUE.created_at < self.before)
        if self.dag_ids is not None:
            found.append(_QUEUE.target_dag_id.in_(self.dag_ids))
        return found


def list_queued_events(session: Session, filters: QueueFilter) -> list[QueuedDatasetEvent]:
    """Queued updates matching ``filters``, oldest first."""
    rows = session.execute(
        sa.select(DatasetRow.uri, _QUEUE.target_dag_id, _QUEUE.created_at)
        .join(DatasetRow, DatasetRow.id == _QUEUE.dataset_id)
        .where(*filters.clauses())
        .order_by(_QUEUE.created_at, _QUEUE.target_dag_id, DatasetRow.uri)
    )
    return [QueuedDatasetEvent(*row) for row in rows]


def delete_queued_events(session: Session, filters: QueueFilter) -> int:
    """Delete the queued updates matching ``filters``; return how many there were."""
    result = session.execute(
        sa.delete(_QUEUE).where(*filters.clauses()).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
