"""XComs: values a task try pushes for later tasks to pull."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.storage.column_types import UtcDateTime, big_id, json_type, utcnow
from tradewind.storage.tables.base import ID_LENGTH, Base
from tradewind.storage.tables.task_instance import _TI_KEY_REFS, TI_KEY


class XComRow(Base):
    """One XCom (API ``XCom``). Deleted with its task instance.

    ``value`` is JSON: what the API returns, and what a custom XCom backend stores as its
    reference (a URI to object storage) when a value is too large or not JSON.
    """

    __tablename__ = "xcom"
    __table_args__ = (
        sa.UniqueConstraint(*TI_KEY, "key", name="uq_xcom_ti_key"),
        sa.ForeignKeyConstraint(TI_KEY, _TI_KEY_REFS, ondelete="CASCADE"),
        sa.Index("ix_xcom_dag_id_task_id_key", "dag_id", "task_id", "key"),
    )

    id: Mapped[int] = mapped_column(big_id(), primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    run_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    task_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    map_index: Mapped[int] = mapped_column(default=-1)
    key: Mapped[str] = mapped_column(sa.String(512))
    value: Mapped[Any] = mapped_column(json_type(), nullable=True)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
