"""Import errors: DAG files that failed to parse, shown instead of crashing anything."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.storage.column_types import UtcDateTime, utcnow
from tradewind.storage.tables.base import Base


class ImportErrorRow(Base):
    """The latest failure of one DAG file (API ``ImportError``)."""

    __tablename__ = "import_error"
    __table_args__ = (sa.Index("ix_import_error_filename", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    filename: Mapped[str] = mapped_column(sa.String(1024))
    processor_subdir: Mapped[str | None] = mapped_column(sa.String(2000))
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    stacktrace: Mapped[str] = mapped_column(sa.Text)
