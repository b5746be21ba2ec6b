"""``Dataset``, ``DatasetEvent``, ``QueuedEvent`` and their collections; the body of
``POST /datasets/events``.

Where Airflow 2.10's responses and its own spec disagree on a name, both are sent, so
the official client (which reads the spec's) and scripts written against Airflow's
real responses both work: ``BasicDAGRun`` has the spec's ``run_id`` and Airflow's
``dag_run_id``; ``QueuedEventCollection`` the spec's ``datasets`` and Airflow's
``queued_events``. ``DatasetEvent.id`` is Airflow's too (the spec omits it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tradewind.api.schemas.base import RequestBody, ResponseBody
from tradewind.storage.repositories.datasets import DatasetReferences, QueuedDatasetEvent
from tradewind.storage.tables import (
    DagRunRow,
    DagScheduleDatasetReferenceRow,
    DatasetEventRow,
    DatasetRow,
    TaskOutletDatasetReferenceRow,
)


class DagScheduleDatasetReference(ResponseBody):
    dag_id: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: DagScheduleDatasetReferenceRow) -> DagScheduleDatasetReference:
        return cls(dag_id=row.dag_id, created_at=row.created_at, updated_at=row.updated_at)


class TaskOutletDatasetReference(ResponseBody):
    dag_id: str | None
    task_id: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: TaskOutletDatasetReferenceRow) -> TaskOutletDatasetReference:
        return cls(
            dag_id=row.dag_id,
            task_id=row.task_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class Dataset(ResponseBody):
    id: int
    uri: str
    extra: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    consuming_dags: list[DagScheduleDatasetReference]
    producing_tasks: list[TaskOutletDatasetReference]

    @classmethod
    def from_row(cls, row: DatasetRow, references: DatasetReferences) -> Dataset:
        return cls(
            id=row.id,
            uri=row.uri,
            extra=_object_or_none(row.extra),
            created_at=row.created_at,
            updated_at=row.updated_at,
            consuming_dags=[
                DagScheduleDatasetReference.from_row(ref)
                for ref in references.consuming.get(row.id, ())
            ],
            producing_tasks=[
                TaskOutletDatasetReference.from_row(ref)
                for ref in references.producing.get(row.id, ())
            ],
        )


class DatasetCollection(ResponseBody):
    datasets: list[Dataset]
    total_entries: int

    @classmethod
    def from_rows(
        cls, rows: Sequence[DatasetRow], references: DatasetReferences, total_entries: int
    ) -> DatasetCollection:
        return cls(
            datasets=[Dataset.from_row(row, references) for row in rows],
            total_entries=total_entries,
        )


class BasicDAGRun(ResponseBody):
    run_id: str
    dag_run_id: str
    dag_id: str
    logical_date: datetime
    start_date: datetime | None
    end_date: datetime | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    state: str

    @classmethod
    def from_row(cls, row: DagRunRow) -> BasicDAGRun:
        return cls(
            run_id=row.run_id,
            dag_run_id=row.run_id,
            dag_id=row.dag_id,
            logical_date=row.logical_date,
            start_date=row.start_date,
            end_date=row.end_date,
            data_interval_start=row.data_interval_start,
            data_interval_end=row.data_interval_end,
            state=row.state,
        )


class DatasetEvent(ResponseBody):
    id: int
    dataset_id: int
    dataset_uri: str
    extra: dict[str, Any] | None
    source_dag_id: str | None
    source_task_id: str | None
    source_run_id: str | None
    source_map_index: int | None
    created_dagruns: list[BasicDAGRun]
    timestamp: datetime

    @classmethod
    def from_row(
        cls, row: DatasetEventRow, uri: str, created_dagruns: Sequence[DagRunRow] = ()
    ) -> DatasetEvent:
        return cls(
            id=row.id,
            dataset_id=row.dataset_id,
            dataset_uri=uri,
            extra=_object_or_none(row.extra),
            source_dag_id=row.source_dag_id,
            source_task_id=row.source_task_id,
            source_run_id=row.source_run_id,
            source_map_index=row.source_map_index,
            created_dagruns=[BasicDAGRun.from_row(run) for run in created_dagruns],
            timestamp=row.timestamp,
        )


class DatasetEventCollection(ResponseBody):
    dataset_events: list[DatasetEvent]
    total_entries: int

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[DatasetEventRow],
        uris: Mapping[int, str],
        created_dagruns: Mapping[int, Sequence[DagRunRow]],
        total_entries: int,
    ) -> DatasetEventCollection:
        """``uris`` by dataset id and ``created_dagruns`` by event id, as
        ``repositories.datasets.dataset_uris`` and ``created_dagruns`` return them."""
        return cls(
            dataset_events=[
                DatasetEvent.from_row(row, uris[row.dataset_id], created_dagruns.get(row.id, ()))
                for row in rows
            ],
            total_entries=total_entries,
        )


class CreateDatasetEvent(RequestBody):
    """``POST /datasets/events``: which dataset was updated, and free-form details."""

    dataset_uri: str
    extra: dict[str, Any] | None = None


class QueuedEvent(ResponseBody):
    uri: str
    dag_id: str
    created_at: datetime

    @classmethod
    def from_event(cls, event: QueuedDatasetEvent) -> QueuedEvent:
        return cls(uri=event.uri, dag_id=event.dag_id, created_at=event.created_at)


class QueuedEventCollection(ResponseBody):
    datasets: list[QueuedEvent]
    queued_events: list[QueuedEvent]
    total_entries: int

    @classmethod
    def from_events(cls, events: Sequence[QueuedDatasetEvent]) -> QueuedEventCollection:
        items = [QueuedEvent.from_event(event) for event in events]
        return cls(datasets=items, queued_events=items, total_entries=len(items))


def _object_or_none(value: Any) -> dict[str, Any] | None:
    """A JSON ``extra`` as the spec's object: anything else stored there reads as null."""
    return value if isinstance(value, dict) else None
