"""``/eventLogs``: the audit log (who changed what, and when), read-only."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from tradewind.api.deps import DbDep, PageDep, PrincipalDep, check_dag, requires
from tradewind.api.model_response import model_response
from tradewind.api.ordering import column_order
from tradewind.api.schemas.base import ApiDateTime, DbInt
from tradewind.api.schemas.event_log import COLUMNS, EventLog, EventLogCollection
from tradewind.errors import PermissionDenied
from tradewind.security.permissions import AUDIT_LOG, READ
from tradewind.storage.repositories import event_logs
from tradewind.storage.repositories.event_logs import EventLogFilter

router = APIRouter(tags=["EventLog"])


async def event_log_filter(
    dag_id: str | None = None,
    task_id: str | None = None,
    run_id: str | None = None,
    map_index: DbInt | None = None,
    try_number: DbInt | None = None,
    event: str | None = None,
    owner: str | None = None,
    before: ApiDateTime | None = None,
    after: ApiDateTime | None = None,
    included_events: str | None = None,
    excluded_events: str | None = None,
) -> EventLogFilter:
    """The spec's filters; an empty string filters nothing, as in Airflow."""
    return EventLogFilter(
        dag_id=dag_id or None,
        task_id=task_id or None,
        run_id=run_id or None,
        map_index=map_index,
        try_number=try_number,
        event=event or None,
        owner=owner or None,
        before=before,
        after=after,
        included_events=_names(included_events),
        excluded_events=_names(excluded_events),
    )


def _names(comma_list: str | None) -> list[str] | None:
    names = [name.strip() for name in (comma_list or "").split(",") if name.strip()]
    return names or None


@router.get(
    "/eventLogs",
    name="get_event_logs",
    dependencies=[requires(READ, AUDIT_LOG)],
    response_model=EventLogCollection,
)
def get_event_logs(
    db: DbDep,
    page: PageDep,
    principal: PrincipalDep,
    where: Annotated[EventLogFilter, Depends(event_log_filter)],
) -> Response:
    readable = principal.grants.dag_filter(READ)
    if readable is not None:
        # Someone allowed to read only some DAGs sees only the events about those.
        where = dataclasses.replace(where, dag_ids=readable)
    with db.read() as session:
        found = event_logs.list_event_logs(
            session,
            where,
            limit=page.limit,
            offset=page.offset,
            order_by=column_order(page.order_by, COLUMNS),
        )
        return model_response(EventLogCollection.from_page(found))


@router.get(
    "/eventLogs/{event_log_id}", name="get_event_log", dependencies=[requires(READ, AUDIT_LOG)]
)
def get_event_log(event_log_id: DbInt, db: DbDep, principal: PrincipalDep) -> EventLog:
    with db.read() as session:
        row = event_logs.require_event_log(session, event_log_id)
    if principal.grants.dag_filter(READ) is not None:
        if row.dag_id is None:
            raise PermissionDenied("Forbidden: this event is not about a DAG you may read")
        check_dag(principal, READ, row.dag_id)
    return EventLog.from_row(row)
