"""Task instances: one task of one DAG run (and one map index), with its earlier tries,
its mapped length and its sensor reschedules.

Key: a surrogate ``id`` primary key plus ``UNIQUE(dag_id, run_id, task_id, map_index)``.
The natural key is what users, the API and guarded updates speak
(``WHERE dag_id=... AND run_id=... AND task_id=... AND map_index=... AND state=...``), so
it is enforced, denormalised into every child table (XCom, history, reschedules) and
covered by an index whose prefix also serves "all TIs of a run". The surrogate id is
what executors, the triggerer and log tails may carry around: one small integer instead
of four strings in every message and URL, and a stable handle for rows that point at a
TI from outside its run (Airflow 3 made the same move, to a UUID).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.storage.column_types import UtcDateTime, big_id, json_type, utcnow
from tradewind.storage.tables.base import ID_LENGTH, Base

#: The four columns naming one task instance, in index order.
TI_KEY = ("dag_id", "run_id", "task_id", "map_index")
_TI_KEY_REFS = tuple(f"task_instance.{column}" for column in TI_KEY)


class _TaskTryColumns(Base):
    """Columns shared by a task instance and each of its archived tries.

    Declared once so that ``task_instance`` and ``task_instance_history`` cannot drift:
    archiving a try copies every one of these columns.
    """

    __abstract__ = True

    id: Mapped[int] = mapped_column(big_id(), primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    run_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    task_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    #: -1 for an unmapped task, 0..n-1 for the expansions of a mapped one.
    map_index: Mapped[int] = mapped_column(default=-1)
    try_number: Mapped[int] = mapped_column(default=0)
    max_tries: Mapped[int] = mapped_column(default=-1)
    #: None is the ``none`` state (not yet scheduled), as in Airflow.
    state: Mapped[str | None] = mapped_column(sa.String(20))
    pool: Mapped[str] = mapped_column(sa.String(256), default="default_pool")
    pool_slots: Mapped[int] = mapped_column(default=1)
    queue: Mapped[str] = mapped_column(sa.String(256), default="default")
    priority_weight: Mapped[int] = mapped_column(default=1)
    operator: Mapped[str | None] = mapped_column(sa.String(1000))
    custom_operator_name: Mapped[str | None] = mapped_column(sa.String(1000))
    task_display_name: Mapped[str | None] = mapped_column(sa.String(2000))
    hostname: Mapped[str | None] = mapped_column(sa.String(1000))
    pid: Mapped[int | None] = mapped_column()
    unixname: Mapped[str | None] = mapped_column(sa.String(1000))
    executor: Mapped[str | None] = mapped_column(sa.String(1000))
    executor_config: Mapped[Any] = mapped_column(json_type(), nullable=True)
    start_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Seconds between start_date and end_date.
    duration: Mapped[float | None] = mapped_column(sa.Float)
    queued_dttm: Mapped[datetime | None] = mapped_column(UtcDateTime)
    queued_by_job_id: Mapped[int | None] = mapped_column()
    #: The job (local task runner / worker) that ran or runs this try.
    job_id: Mapped[int | None] = mapped_column()
    external_executor_id: Mapped[str | None] = mapped_column(sa.String(250))
    #: Method to resume with after a deferral, and its keyword arguments.
    next_method: Mapped[str | None] = mapped_column(sa.String(1000))
    next_kwargs: Mapped[Any] = mapped_column(json_type(), nullable=True)
    trigger_timeout: Mapped[datetime | None] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(sa.Text)
    #: Template fields after rendering, for the UI's Rendered view (masked secrets).
    rendered_fields: Mapped[Any] = mapped_column(json_type(), nullable=True)
    rendered_map_index: Mapped[str | None] = mapped_column(sa.String(250))
    #: Set by the worker while the try runs; a running try whose heartbeat is older than
    #: ``[scheduler] scheduler_zombie_task_threshold`` is a zombie.
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class TaskInstanceRow(_TaskTryColumns):
    """The current try of one task instance (API ``TaskInstance``)."""

    __tablename__ = "task_instance"
    __table_args__ = (
        sa.UniqueConstraint(*TI_KEY),
        sa.ForeignKeyConstraint(
            ["dag_id", "run_id"], ["dag_run.dag_id", "dag_run.run_id"], ondelete="CASCADE"
        ),
        sa.Index("ix_task_instance_state", "state"),
        sa.Index("ix_task_instance_dag_id_state", "dag_id", "state"),
        sa.Index("ix_task_instance_dag_id_task_id", "dag_id", "task_id"),
        sa.Index("ix_task_instance_pool_state", "pool", "state", "priority_weight"),
        sa.Index("ix_task_instance_queue_state", "queue", "state"),
        sa.Index("ix_task_instance_job_id", "job_id"),
        sa.Index("ix_task_instance_trigger_id", "trigger_id"),
    )

    #: The trigger a deferred try waits on; SET NULL so a lost trigger is seen, not cascaded.
    trigger_id: Mapped[int | None] = mapped_column(sa.ForeignKey("trigger.id", ondelete="SET NULL"))


class TaskInstanceHistoryRow(_TaskTryColumns):
    """One earlier try of a task instance, archived when it is retried or cleared."""

    __tablename__ = "task_instance_history"
    __table_args__ = (
        sa.UniqueConstraint(*TI_KEY, "try_number", name="uq_task_instance_history_try"),
        sa.ForeignKeyConstraint(TI_KEY, _TI_KEY_REFS, ondelete="CASCADE"),
    )

    trigger_id: Mapped[int | None] = mapped_column()


class TaskMapRow(Base):
    """How many instances a mapped task expanded to, recorded by its upstream."""

    __tablename__ = "task_map"
    __table_args__ = (sa.ForeignKeyConstraint(TI_KEY, _TI_KEY_REFS, ondelete="CASCADE"),)

    dag_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH), primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH), primary_key=True)
    task_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH), primary_key=True)
    map_index: Mapped[int] = mapped_column(primary_key=True)
    length: Mapped[int] = mapped_column()
    #: Keys of a mapped dict, or None when a list was mapped.
    keys: Mapped[Any] = mapped_column(json_type(), nullable=True)


class TaskRescheduleRow(Base):
    """One ``reschedule``-mode poke of a sensor: when it ran and when it runs next."""

    __tablename__ = "task_reschedule"
    __table_args__ = (
        sa.ForeignKeyConstraint(TI_KEY, _TI_KEY_REFS, ondelete="CASCADE"),
        sa.Index("ix_task_reschedule_ti_key", *TI_KEY, "try_number"),
    )

    id: Mapped[int] = mapped_column(big_id(), primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    run_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    task_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    map_index: Mapped[int] = mapped_column(default=-1)
    try_number: Mapped[int] = mapped_column()
    start_date: Mapped[datetime] = mapped_column(UtcDateTime)
    end_date: Mapped[datetime] = mapped_column(UtcDateTime)
    duration: Mapped[float] = mapped_column(sa.Float)
    reschedule_date: Mapped[datetime] = mapped_column(UtcDateTime)
