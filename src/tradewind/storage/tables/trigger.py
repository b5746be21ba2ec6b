"""Triggers: the asynchronous waits of deferred task instances, run by a triggerer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.storage.column_types import UtcDateTime, utcnow
from tradewind.storage.fernet import EncryptedJson
from tradewind.storage.tables.base import Base


class TriggerRow(Base):
    """One trigger (API ``Trigger``). ``kwargs`` are encrypted: they may hold credentials."""

    __tablename__ = "trigger"
    __table_args__ = (sa.Index("ix_trigger_triggerer_id", "triggerer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    classpath: Mapped[str] = mapped_column(sa.String(1000))
    kwargs: Mapped[Any] = mapped_column(EncryptedJson)
    created_date: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: The triggerer job running it; NULL while unassigned.
    triggerer_id: Mapped[int | None] = mapped_column()
