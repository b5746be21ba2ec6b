"""Pools: named slot budgets limiting how many task instances run at once."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.storage.tables.base import Base

#: The pool every task uses unless it names another; created by the first migration.
DEFAULT_POOL_NAME = "default_pool"


class PoolRow(Base):
    """One pool (API ``Pool``; occupancy is counted from task instances, not stored)."""

    __tablename__ = "slot_pool"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(256), unique=True)
    #: Task slots; -1 means unlimited, as in Airflow.
    slots: Mapped[int] = mapped_column(default=0)
    description: Mapped[str | None] = mapped_column(sa.Text)
    #: Whether deferred task instances occupy slots.
    include_deferred: Mapped[bool] = mapped_column(default=False)
