"""Datasets: URIs tasks update, the events recording each update, and which DAGs they
schedule (data-aware scheduling, API ``Dataset``, ``DatasetEvent``, ``QueuedEvent``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tradewind.storage.column_types import UtcDateTime, big_id, json_type, utcnow
from tradewind.storage.tables.base import ID_LENGTH, Base
from tradewind.storage.tables.dag_run import DagRunRow


class DatasetRow(Base):
    """One dataset URI. Orphaned (no DAG mentions it) rather than deleted, keeping events."""

    __tablename__ = "dataset"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    #: Unique; 1500 characters keeps the btree entry within PostgreSQL's limit.
    uri: Mapped[str] = mapped_column(sa.String(1500), unique=True)
    extra: Mapped[Any] = mapped_column(json_type(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    is_orphaned: Mapped[bool] = mapped_column(default=False)


#: Which dataset events caused which DAG runs (API ``DatasetEvent.created_dagruns``).
dagrun_dataset_event = sa.Table(
    "dagrun_dataset_event",
    Base.metadata,
    sa.Column(
        "dag_run_id",
        big_id(),
        sa.ForeignKey("dag_run.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "event_id",
        big_id(),
        sa.ForeignKey("dataset_event.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Index("ix_dagrun_dataset_event_event_id", "event_id"),
)


class DatasetEventRow(Base):
    """One update of a dataset, by a task or through the API."""

    __tablename__ = "dataset_event"
    __table_args__ = (sa.Index("ix_dataset_event_dataset_id_timestamp", "dataset_id", "timestamp"),)

    id: Mapped[int] = mapped_column(big_id(), primary_key=True, autoincrement=True)
    dataset_id: Mapped[int] = mapped_column(sa.ForeignKey("dataset.id", ondelete="CASCADE"))
    extra: Mapped[Any] = mapped_column(json_type(), nullable=True)
    source_dag_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    source_task_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    source_run_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    source_map_index: Mapped[int | None] = mapped_column(default=-1)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    created_dagruns: Mapped[list[DagRunRow]] = relationship(
        secondary=dagrun_dataset_event, lazy="raise"
    )


class DagScheduleDatasetReferenceRow(Base):
    """A DAG scheduled on a dataset (API ``DagScheduleDatasetReference``)."""

    __tablename__ = "dag_schedule_dataset_reference"

    dataset_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    dag_id: Mapped[str] = mapped_column(
        sa.String(ID_LENGTH), sa.ForeignKey("dag.dag_id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class TaskOutletDatasetReferenceRow(Base):
    """A task that updates a dataset (API ``TaskOutletDatasetReference``)."""

    __tablename__ = "task_outlet_dataset_reference"
    # Every try's claim looks its task's outlets up (the primary key begins with the dataset).
    __table_args__ = (
        sa.Index("ix_task_outlet_dataset_reference_dag_id_task_id", "dag_id", "task_id"),
    )

    dataset_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    dag_id: Mapped[str] = mapped_column(
        sa.String(ID_LENGTH), sa.ForeignKey("dag.dag_id", ondelete="CASCADE"), primary_key=True
    )
    task_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class DatasetDagRunQueueRow(Base):
    """A dataset update a DAG has seen but not yet run for (API ``QueuedEvent``)."""

    __tablename__ = "dataset_dag_run_queue"

    dataset_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True
    )
    target_dag_id: Mapped[str] = mapped_column(
        sa.String(ID_LENGTH), sa.ForeignKey("dag.dag_id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
