"""Reading the audit log (API ``/eventLogs``); :mod:`tradewind.services.audit` writes it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import NotFound
from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate
from tradewind.storage.repositories._queries import order_clauses
from tradewind.storage.tables import LogRow

#: Columns ``list_event_logs`` may order by (Airflow's, less ``execution_date``).
ORDERABLE = ("id", "dttm", "dag_id", "task_id", "run_id", "event", "owner", "extra")


@dataclass(frozen=True)
class EventLogFilter:
    """Which audit rows to list; a field left None does not filter.

    ``before`` and ``after`` are exclusive bounds on the event time, as in Airflow.
    ``included_events`` keeps only those event names, ``excluded_events`` drops them.
    ``dag_ids`` keeps only events about those DAGs (events about no DAG are dropped too):
    what a user allowed to read only some DAGs may see.
    """

    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    map_index: int | None = None
    try_number: int | None = None
    event: str | None = None
    owner: str | None = None
    before: datetime | None = None
    after: datetime | None = None
    included_events: Collection[str] | None = None
    excluded_events: Collection[str] | None = None
    dag_ids: Collection[str] | None = None


def get_event_log(session: Session, event_log_id: int) -> LogRow | None:
    return session.get(LogRow, event_log_id)


def require_event_log(session: Session, event_log_id: int) -> LogRow:
    """Raises NotFound when there is no audit row ``event_log_id``."""
    row = get_event_log(session, event_log_id)
    if row is None:
        raise NotFound(f"Event Log with event_log_id: `{event_log_id}` was not found")
    return row


def list_event_logs(
    session: Session,
    where: EventLogFilter = EventLogFilter(),
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    order_by: str | None = None,
) -> Page[LogRow]:
    """Audit rows matching ``where``, ordered by ``order_by`` (``-dttm``; by id when None).

    Raises:
        InvalidInput: ``order_by`` names a column not in :data:`ORDERABLE`.
    """
    query = sa.select(LogRow).where(*_conditions(where))
    query = query.order_by(*order_clauses(LogRow, order_by or "id", ORDERABLE))
    return paginate(session, query, limit=limit, offset=offset)


def _conditions(where: EventLogFilter) -> list[sa.ColumnElement[bool]]:
    equal: dict[str, Any] = {
        "dag_id": where.dag_id,
        "task_id": where.task_id,
        "run_id": where.run_id,
        "map_index": where.map_index,
        "try_number": where.try_number,
        "event": where.event,
        "owner": where.owner,
    }
    conditions = [
        getattr(LogRow, name) == value for name, value in equal.items() if value is not None
    ]
    if where.before is not None:
        conditions.append(LogRow.dttm < where.before)
    if where.after is not None:
        conditions.append(LogRow.dttm > where.after)
    if where.included_events is not None:
        conditions.append(LogRow.event.in_(list(where.included_events)))
    if where.excluded_events is not None:
        conditions.append(LogRow.event.not_in(list(where.excluded_events)))
    if where.dag_ids is not None:
        conditions.append(LogRow.dag_id.in_(list(where.dag_ids)))
    return conditions
