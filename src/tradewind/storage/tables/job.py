"""Jobs: running Tradewind processes (scheduler, triggerer, task runners) and heartbeats."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.storage.column_types import UtcDateTime
from tradewind.storage.tables.base import ID_LENGTH, Base


class JobRow(Base):
    """One process run (API ``Job``). A job whose heartbeat is too old is considered dead.

    The ``(job_type, state, latest_heartbeat)`` index serves "alive schedulers" for
    ``/health`` and the HA checks, and "triggerers alive" for trigger assignment.
    """

    __tablename__ = "job"
    __table_args__ = (
        sa.Index("ix_job_type_state_heartbeat", "job_type", "state", "latest_heartbeat"),
        sa.Index("ix_job_dag_id", "dag_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    dag_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    state: Mapped[str | None] = mapped_column(sa.String(20))
    #: SchedulerJob, TriggererJob, LocalTaskJob, DagProcessorJob (Airflow's names).
    job_type: Mapped[str] = mapped_column(sa.String(30))
    start_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    latest_heartbeat: Mapped[datetime | None] = mapped_column(UtcDateTime)
    executor_class: Mapped[str | None] = mapped_column(sa.String(500))
    hostname: Mapped[str | None] = mapped_column(sa.String(500))
    unixname: Mapped[str | None] = mapped_column(sa.String(1000))
    pid: Mapped[int | None] = mapped_column()
