"""``DagWarning`` and ``DagWarningCollection``: DAG problems that are not import errors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tradewind.api.schemas.base import ResponseBody
from tradewind.storage.tables import DagWarningRow


class DagWarning(ResponseBody):
    dag_id: str
    warning_type: str
    message: str
    timestamp: datetime

    @classmethod
    def from_row(cls, row: DagWarningRow) -> DagWarning:
        return cls(
            dag_id=row.dag_id,
            warning_type=row.warning_type,
            message=row.message,
            timestamp=row.timestamp,
        )


class DagWarningCollection(ResponseBody):
    dag_warnings: list[DagWarning]
    total_entries: int

    @classmethod
    def from_rows(cls, rows: Sequence[DagWarningRow], total_entries: int) -> DagWarningCollection:
        return cls(
            dag_warnings=[DagWarning.from_row(row) for row in rows], total_entries=total_entries
        )
