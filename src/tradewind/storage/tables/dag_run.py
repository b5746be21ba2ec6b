"""DAG runs: one execution of a DAG for one logical date."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.storage.column_types import UtcDateTime, big_id, json_type, utcnow
from tradewind.storage.tables.base import ID_LENGTH, Base


class DagRunRow(Base):
    """One DAG run (API ``DAGRun``).

    ``id`` is the surrogate key other tables and URLs may use; ``(dag_id, run_id)`` is the
    identity users see, and ``(dag_id, logical_date)`` is unique as in Airflow 2, which
    makes "one run per schedule slot" a database guarantee even with several schedulers.
    States and run types are plain strings (``queued``, ``running``, ``success``,
    ``failed``; ``manual``, ``scheduled``, ``backfill``, ``dataset_triggered``): their
    vocabulary belongs to the SDK, and a new value needs no migration.
    """

    __tablename__ = "dag_run"
    __table_args__ = (
        sa.UniqueConstraint("dag_id", "run_id"),
        sa.UniqueConstraint("dag_id", "logical_date"),
        sa.Index("ix_dag_run_dag_id_state", "dag_id", "state"),
        sa.Index("ix_dag_run_state_last_scheduling_decision", "state", "last_scheduling_decision"),
        sa.Index("ix_dag_run_logical_date", "logical_date"),
        sa.Index("ix_dag_run_start_date", "start_date"),
        sa.Index("ix_dag_run_end_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(big_id(), primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(
        sa.String(ID_LENGTH), sa.ForeignKey("dag.dag_id", ondelete="CASCADE")
    )
    run_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    run_type: Mapped[str] = mapped_column(sa.String(50))
    logical_date: Mapped[datetime] = mapped_column(UtcDateTime)
    data_interval_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    data_interval_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(sa.String(50), default="queued")
    conf: Mapped[Any] = mapped_column(json_type(), nullable=True)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    start_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    external_trigger: Mapped[bool] = mapped_column(default=True)
    creating_job_id: Mapped[int | None] = mapped_column()
    last_scheduling_decision: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: ``SerializedDagRow.dag_hash`` the run was created (or last verified) against.
    dag_hash: Mapped[str | None] = mapped_column(sa.String(64))
    #: How many times the run was cleared; part of log paths so cleared tries stay apart.
    clear_number: Mapped[int] = mapped_column(default=0)
    note: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
