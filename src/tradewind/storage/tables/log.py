"""The audit log (API ``EventLog``): who did what to which DAG, run or task, and when."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.storage.column_types import UtcDateTime, big_id, utcnow
from tradewind.storage.tables.base import ID_LENGTH, Base


class LogRow(Base):
    """One audit event. No foreign keys: the record outlives the DAG it mentions."""

    __tablename__ = "log"
    __table_args__ = (
        sa.Index("ix_log_dttm", "dttm"),
        sa.Index("ix_log_dag_id_dttm", "dag_id", "dttm"),
        sa.Index("ix_log_event_dttm", "event", "dttm"),
    )

    id: Mapped[int] = mapped_column(big_id(), primary_key=True, autoincrement=True)
    dttm: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    dag_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    task_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    map_index: Mapped[int | None] = mapped_column()
    run_id: Mapped[str | None] = mapped_column(sa.String(ID_LENGTH))
    try_number: Mapped[int | None] = mapped_column()
    event: Mapped[str] = mapped_column(sa.String(60))
    owner: Mapped[str | None] = mapped_column(sa.String(500))
    owner_display_name: Mapped[str | None] = mapped_column(sa.String(500))
    #: Free text, usually JSON of the request's parameters (secrets masked by the writer).
    extra: Mapped[str | None] = mapped_column(sa.Text)
