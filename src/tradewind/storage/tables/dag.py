"""A DAG as the scheduler and the API see it: its row, tags, owner links, serialized form,
source code and warnings.

``DagRow`` holds what must be queried (paused, active, next run); everything else about a
DAG lives in its serialized JSON (``SerializedDagRow``), which the DAG processor writes and
the scheduler, API and UI read without importing user code.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tradewind.storage.column_types import UtcDateTime, json_type, utcnow
from tradewind.storage.tables.base import ID_LENGTH, Base


class DagRow(Base):
    """One DAG known to Tradewind (``DAG``/``DAGDetail`` of the API)."""

    __tablename__ = "dag"
    __table_args__ = (
        sa.Index("ix_dag_next_dagrun_create_after", "next_dagrun_create_after"),
        sa.Index("ix_dag_is_active_is_paused", "is_active", "is_paused"),
        # Lists of active DAGs by dag_id, a page at a time (migration 0004).
        sa.Index("ix_dag_is_active_dag_id", "is_active", "dag_id"),
    )

    dag_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH), primary_key=True)
    dag_display_name: Mapped[str | None] = mapped_column(sa.String(2000))
    is_paused: Mapped[bool] = mapped_column(default=False)
    #: False once its file is gone or no longer defines it; inactive DAGs keep their history.
    is_active: Mapped[bool] = mapped_column(default=False)
    last_parsed_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_expired: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fileloc: Mapped[str | None] = mapped_column(sa.String(2000))
    processor_subdir: Mapped[str | None] = mapped_column(sa.String(2000))
    #: Comma-separated owner names, as Airflow stores them.
    owners: Mapped[str | None] = mapped_column(sa.String(2000))
    description: Mapped[str | None] = mapped_column(sa.Text)
    default_view: Mapped[str | None] = mapped_column(sa.String(25))
    timetable_summary: Mapped[str | None] = mapped_column(sa.Text)
    timetable_description: Mapped[str | None] = mapped_column(sa.String(1000))
    #: The API's ScheduleInterval union: null, {"__type": "CronExpression", ...}, ...
    schedule_interval: Mapped[Any] = mapped_column(json_type(), nullable=True)
    dataset_expression: Mapped[Any] = mapped_column(json_type(), nullable=True)
    max_active_tasks: Mapped[int] = mapped_column(default=16)
    max_active_runs: Mapped[int | None] = mapped_column()
    max_consecutive_failed_dag_runs: Mapped[int] = mapped_column(default=0)
    has_task_concurrency_limits: Mapped[bool] = mapped_column(default=True)
    has_import_errors: Mapped[bool] = mapped_column(default=False)
    next_dagrun: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_dagrun_data_interval_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_dagrun_data_interval_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: When the scheduler may create the next run; NULL means "do not create one".
    next_dagrun_create_after: Mapped[datetime | None] = mapped_column(UtcDateTime)

    tags: Mapped[list[DagTagRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )
    owner_links: Mapped[list[DagOwnerLinkRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class DagTagRow(Base):
    """One tag of a DAG (API ``DAG.tags``), a table so that DAGs can be filtered by tag."""

    __tablename__ = "dag_tag"
    __table_args__ = (
        # The tags of given DAGs, already in name order (migration 0005): the primary key
        # begins with the name, so a lookup by dag_id scanned the whole table.
        sa.Index("ix_dag_tag_dag_id_name", "dag_id", "name"),
    )

    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    dag_id: Mapped[str] = mapped_column(
        sa.String(ID_LENGTH), sa.ForeignKey("dag.dag_id", ondelete="CASCADE"), primary_key=True
    )


class DagOwnerLinkRow(Base):
    """A link shown for one owner of a DAG (``DAG(owner_links={...})``)."""

    __tablename__ = "dag_owner_link"

    dag_id: Mapped[str] = mapped_column(
        sa.String(ID_LENGTH), sa.ForeignKey("dag.dag_id", ondelete="CASCADE"), primary_key=True
    )
    owner: Mapped[str] = mapped_column(sa.String(500), primary_key=True)
    link: Mapped[str] = mapped_column(sa.String(500))


class SerializedDagRow(Base):
    """The latest serialized form of a DAG: the only form the scheduler, API and UI read."""

    __tablename__ = "serialized_dag"

    dag_id: Mapped[str] = mapped_column(
        sa.String(ID_LENGTH), sa.ForeignKey("dag.dag_id", ondelete="CASCADE"), primary_key=True
    )
    fileloc: Mapped[str] = mapped_column(sa.String(2000))
    processor_subdir: Mapped[str | None] = mapped_column(sa.String(2000))
    data: Mapped[Any] = mapped_column(json_type())
    #: Hash of ``data``: the processor rewrites the row only when it changes.
    dag_hash: Mapped[str] = mapped_column(sa.String(64))
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DagCodeRow(Base):
    """The source text of one DAG file, shown by the UI's Code view and ``dagSources``.

    Keyed by a hash of the path: paths are long and may hold any character, which makes
    them a poor primary key on PostgreSQL (btree entry size) and in URLs.
    """

    __tablename__ = "dag_code"

    fileloc_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    fileloc: Mapped[str] = mapped_column(sa.String(2000))
    source_code: Mapped[str] = mapped_column(sa.Text)
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @staticmethod
    def hash_fileloc(fileloc: str) -> str:
        """The ``fileloc_hash`` of a path: its SHA-256, hex (stable across processes)."""
        return hashlib.sha256(fileloc.encode("utf-8")).hexdigest()


class DagWarningRow(Base):
    """A problem of a DAG that is not an import error (API ``DagWarning``)."""

    __tablename__ = "dag_warning"

    dag_id: Mapped[str] = mapped_column(
        sa.String(ID_LENGTH), sa.ForeignKey("dag.dag_id", ondelete="CASCADE"), primary_key=True
    )
    #: ``dataset conflict`` or ``non-existent pool``, Airflow's two kinds.
    warning_type: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    message: Mapped[str] = mapped_column(sa.Text)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
