"""``EventLog`` and ``EventLogCollection``: the audit log, one row per action taken.

``execution_date`` is in the spec for events about a run; Tradewind's audit rows name
the run by ``run_id`` and do not copy its date, so it is always null.
"""

from __future__ import annotations

from datetime import datetime

from tradewind.api.schemas.base import ResponseBody
from tradewind.storage.pagination import Page
from tradewind.storage.tables import LogRow

#: API field name -> ``LogRow`` column, where they differ (``order_by``).
#: ``execution_date`` is null on every row, so ordering by it is ordering by id.
COLUMNS = {"event_log_id": "id", "when": "dttm", "execution_date": "id"}


class EventLog(ResponseBody):
    event_log_id: int
    when: datetime
    dag_id: str | None
    task_id: str | None
    run_id: str | None
    map_index: int | None
    try_number: int | None
    event: str
    execution_date: datetime | None
    owner: str | None
    extra: str | None

    @classmethod
    def from_row(cls, row: LogRow) -> EventLog:
        return cls(
            event_log_id=row.id,
            when=row.dttm,
            dag_id=row.dag_id,
            task_id=row.task_id,
            run_id=row.run_id,
            map_index=row.map_index,
            try_number=row.try_number,
            event=row.event,
            execution_date=None,
            owner=row.owner,
            extra=row.extra,
        )


class EventLogCollection(ResponseBody):
    event_logs: list[EventLog]
    total_entries: int

    @classmethod
    def from_page(cls, page: Page[LogRow]) -> EventLogCollection:
        return cls(
            event_logs=[EventLog.from_row(row) for row in page.items],
            total_entries=page.total_entries,
        )
