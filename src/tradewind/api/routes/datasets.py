"""``/datasets``: datasets, their events, and queued events of dataset-scheduled DAGs.

Dataset URIs travel in the path percent-encoded (``s3%3A%2F%2Fbucket%2Fkey``); the
server decodes them before routing, so they are matched with ``{uri:path}`` and the
fixed paths (``/datasets/events``, ``/datasets/queuedEvent/...``) are declared first.

Permissions are Airflow's: ``Datasets`` to read, create (an event) or delete (queued
events); the queued events of one DAG also need read access to that DAG, and those of
a dataset are narrowed to the DAGs the caller may read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from tradewind.api.deps import Db, DbDep, PageDep, PrincipalDep, check_dag, requires
from tradewind.api.model_response import model_response
from tradewind.api.query_dates import query_datetime
from tradewind.api.schemas.dataset import (
    CreateDatasetEvent,
    Dataset,
    DatasetCollection,
    DatasetEvent,
    DatasetEventCollection,
    QueuedEvent,
    QueuedEventCollection,
)
from tradewind.errors import NotFound
from tradewind.security.permissions import CREATE, DATASET, DELETE, READ
from tradewind.services import datasets as dataset_service
from tradewind.storage.repositories import datasets
from tradewind.storage.repositories.datasets import EventFilter, QueuedDatasetEvent, QueueFilter

router = APIRouter(tags=["Dataset"])


async def before_param(before: str | None = None) -> datetime | None:
    return query_datetime("before", before)


BeforeDep = Annotated[datetime | None, Depends(before_param)]
#: An integer filter the database can compare (64 bits); larger is a 400, not a 500.
IntFilter = Annotated[int | None, Query(ge=-(2**63), le=2**63 - 1)]


@router.get(
    "/datasets",
    name="get_datasets",
    dependencies=[requires(READ, DATASET)],
    response_model=DatasetCollection,
)
def get_datasets(
    db: DbDep, page: PageDep, uri_pattern: str | None = None, dag_ids: str | None = None
) -> Response:
    wanted_dags = [dag_id for dag_id in (dag_ids or "").split(",") if dag_id]
    with db.read() as session:
        found = datasets.list_datasets(
            session,
            limit=page.limit,
            offset=page.offset,
            order_by=page.order_by,
            uri_pattern=uri_pattern,
            dag_ids=wanted_dags or None,
        )
        references = datasets.dataset_references(session, [row.id for row in found.items])
        return model_response(
            DatasetCollection.from_rows(found.items, references, found.total_entries)
        )


@router.get(
    "/datasets/events",
    name="get_dataset_events",
    dependencies=[requires(READ, DATASET)],
    response_model=DatasetEventCollection,
)
def get_dataset_events(
    db: DbDep,
    page: PageDep,
    dataset_id: IntFilter = None,
    source_dag_id: str | None = None,
    source_task_id: str | None = None,
    source_run_id: str | None = None,
    source_map_index: IntFilter = None,
) -> Response:
    filters = EventFilter(
        dataset_id, source_dag_id, source_task_id, source_run_id, source_map_index
    )
    with db.read() as session:
        found = datasets.list_events(
            session, filters, limit=page.limit, offset=page.offset, order_by=page.order_by
        )
        uris = datasets.dataset_uris(session, {row.dataset_id for row in found.items})
        created = datasets.created_dagruns(session, [row.id for row in found.items])
        return model_response(
            DatasetEventCollection.from_rows(found.items, uris, created, found.total_entries)
        )


@router.post(
    "/datasets/events", name="create_dataset_event", dependencies=[requires(CREATE, DATASET)]
)
def create_dataset_event(body: CreateDatasetEvent, db: DbDep) -> DatasetEvent:
    with db.write(dataset_uri=body.dataset_uri) as session:
        event = dataset_service.create_dataset_event(
            session, body.dataset_uri, extra=body.extra, now=datetime.now(UTC)
        )
        response = DatasetEvent.from_row(event, body.dataset_uri)
    db.wake_scheduler()
    return response


@router.get(
    "/datasets/queuedEvent/{uri:path}",
    name="get_dataset_queued_events",
    dependencies=[requires(READ, DATASET)],
    response_model=QueuedEventCollection,
)
def get_dataset_queued_events(
    uri: str, before: BeforeDep, db: DbDep, principal: PrincipalDep
) -> Response:
    filters = QueueFilter(uri=uri, before=before, dag_ids=principal.grants.dag_filter(READ))
    return model_response(QueuedEventCollection.from_events(_queued(db, filters)))


@router.delete(
    "/datasets/queuedEvent/{uri:path}",
    name="delete_dataset_queued_events",
    status_code=204,
    dependencies=[requires(DELETE, DATASET)],
)
def delete_dataset_queued_events(
    uri: str, before: BeforeDep, db: DbDep, principal: PrincipalDep
) -> Response:
    filters = QueueFilter(uri=uri, before=before, dag_ids=principal.grants.dag_filter(READ))
    return _delete_queued(db, filters)


@router.get("/datasets/{uri:path}", name="get_dataset", dependencies=[requires(READ, DATASET)])
def get_dataset(uri: str, db: DbDep) -> Dataset:
    with db.read() as session:
        row = datasets.require_dataset(session, uri)
        return Dataset.from_row(row, datasets.dataset_references(session, [row.id]))


@router.get(
    "/dags/{dag_id}/datasets/queuedEvent/{uri:path}",
    name="get_dag_dataset_queued_event",
    dependencies=[requires(READ, DATASET)],
)
def get_dag_dataset_queued_event(
    dag_id: str, uri: str, before: BeforeDep, db: DbDep, principal: PrincipalDep
) -> QueuedEvent:
    check_dag(principal, READ, dag_id)
    filters = QueueFilter(dag_id=dag_id, uri=uri, before=before)
    return QueuedEvent.from_event(_queued(db, filters)[0])


@router.delete(
    "/dags/{dag_id}/datasets/queuedEvent/{uri:path}",
    name="delete_dag_dataset_queued_event",
    status_code=204,
    dependencies=[requires(DELETE, DATASET)],
)
def delete_dag_dataset_queued_event(
    dag_id: str, uri: str, before: BeforeDep, db: DbDep, principal: PrincipalDep
) -> Response:
    check_dag(principal, READ, dag_id)
    return _delete_queued(db, QueueFilter(dag_id=dag_id, uri=uri, before=before))


@router.get(
    "/dags/{dag_id}/datasets/queuedEvent",
    name="get_dag_dataset_queued_events",
    dependencies=[requires(READ, DATASET)],
    response_model=QueuedEventCollection,
)
def get_dag_dataset_queued_events(
    dag_id: str, before: BeforeDep, db: DbDep, principal: PrincipalDep
) -> Response:
    check_dag(principal, READ, dag_id)
    return model_response(
        QueuedEventCollection.from_events(_queued(db, QueueFilter(dag_id=dag_id, before=before)))
    )


@router.delete(
    "/dags/{dag_id}/datasets/queuedEvent",
    name="delete_dag_dataset_queued_events",
    status_code=204,
    dependencies=[requires(DELETE, DATASET)],
)
def delete_dag_dataset_queued_events(
    dag_id: str, before: BeforeDep, db: DbDep, principal: PrincipalDep
) -> Response:
    check_dag(principal, READ, dag_id)
    return _delete_queued(db, QueueFilter(dag_id=dag_id, before=before))


def _queued(db: Db, filters: QueueFilter) -> list[QueuedDatasetEvent]:
    """The queued events matching ``filters``; 404 (Airflow's wording) when none."""
    with db.read() as session:
        events = datasets.list_queued_events(session, _resolved(session, filters))
    if not events:
        raise NotFound(_missing_queued(filters))
    return events


def _delete_queued(db: Db, filters: QueueFilter) -> Response:
    """Delete the queued events matching ``filters``: 204, or 404 when there were none."""
    with db.write(dataset_uri=filters.uri) as session:
        if not datasets.delete_queued_events(session, _resolved(session, filters)):
            raise NotFound(_missing_queued(filters))
    return Response(status_code=204)


def _resolved(session: Session, filters: QueueFilter) -> QueueFilter:
    if filters.uri is None:
        return filters
    return replace(filters, uri=datasets.resolve_uri(session, filters.uri))


def _missing_queued(filters: QueueFilter) -> str:
    if filters.dag_id is None:
        return f"Queue event with dataset uri: `{filters.uri}` was not found"
    if filters.uri is None:
        return f"Queue event with dag_id: `{filters.dag_id}` was not found"
    return (
        f"Queue event with dag_id: `{filters.dag_id}` and dataset uri: `{filters.uri}` "
        "was not found"
    )
