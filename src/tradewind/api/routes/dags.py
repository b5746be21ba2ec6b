"""``/dags``: list, read, pause/unpause and delete DAGs; their details and tasks.

Everything here reads the ``dag`` row or the serialized DAG; no route imports a DAG file.
Only ``is_paused`` can change through the API, as in Airflow; unpausing wakes the
scheduler so that a due run starts without waiting for its next tick.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tradewind.api.deps import (
    DbDep,
    PageDep,
    PrincipalDep,
    SettingsDep,
    check_dag,
    requires,
)
from tradewind.api.file_tokens import FileTokens
from tradewind.api.list_bodies import dag_list_json
from tradewind.api.model_response import JSON
from tradewind.api.schemas.dag import DAG, DAGBody, DAGCollection, DAGDetail, only_fields
from tradewind.api.schemas.task import Task, TaskCollection
from tradewind.api.update_mask import update_mask_param
from tradewind.errors import InvalidInput
from tradewind.security.permissions import DAG as DAGS
from tradewind.security.permissions import DELETE, EDIT, READ, TASK_INSTANCE
from tradewind.services import dags as dag_service
from tradewind.storage.repositories import dags as dag_repo

router = APIRouter(tags=["DAG"])


async def fields_param(fields: Annotated[list[str] | None, Query()] = None) -> list[str] | None:
    """The spec's ``ReturnFields``: ``fields=a&fields=b`` (or ``fields=a,b``)."""
    if not fields:
        return None
    names = [name.strip() for value in fields for name in value.split(",")]
    return [name for name in names if name] or None


FieldsDep = Annotated[list[str] | None, Depends(fields_param)]
MaskDep = Annotated[list[str] | None, Depends(update_mask_param)]
TagsQuery = Annotated[list[str] | None, Query()]


@router.get(
    "/dags", name="get_dags", dependencies=[requires(READ, DAGS)], response_model=DAGCollection
)
async def get_dags(
    db: DbDep,
    page: PageDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    fields: FieldsDep,
    tags: TagsQuery = None,
    only_active: bool = True,
    paused: bool | None = None,
    dag_id_pattern: str | None = None,
) -> Response:
    def answer(session: Session) -> Response:
        found = dag_repo.list_dag_records(
            session,
            only_active=only_active,
            paused=paused,
            tags=tags or (),
            dag_id_pattern=dag_id_pattern,
            dag_ids=principal.grants.dag_filter(READ),
            limit=page.limit,
            offset=page.offset,
            order_by=page.order_by,
        )
        tags_of = dag_repo.tag_names(session, [row.dag_id for row in found.items])
        body = dag_list_json(found, tags_of, FileTokens(settings), fields)
        return Response(body, media_type=JSON)

    # async, with the page read inline on SQLite: see Db.run_read.
    return await db.run_read(answer)


@router.patch("/dags", name="patch_dags", dependencies=[requires(EDIT, DAGS)])
def patch_dags(
    body: DAGBody,
    dag_id_pattern: str,
    db: DbDep,
    page: PageDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    update_mask: MaskDep,
    tags: TagsQuery = None,
    only_active: bool = True,
) -> DAGCollection:
    is_paused = _is_paused_change(body, update_mask)
    with db.write(dag_id_pattern=dag_id_pattern, is_paused=is_paused) as session:
        found = dag_repo.list_dags(
            session,
            only_active=only_active,
            tags=tags or (),
            # Airflow's "~": every DAG (the pattern is matched as %pattern%).
            dag_id_pattern=None if dag_id_pattern == "~" else dag_id_pattern,
            dag_ids=principal.grants.dag_filter(EDIT),
            limit=page.limit,
            offset=page.offset,
        )
        dag_ids = [row.dag_id for row in found.items]
        dag_service.set_paused_many(
            session, dag_ids, is_paused, now=datetime.now(UTC), owner=principal.username
        )
        collection = DAGCollection.from_rows(found.items, found.total_entries, FileTokens(settings))
    if dag_ids and not is_paused:
        db.wake_scheduler()
    return collection


@router.get(
    "/dags/{dag_id}", name="get_dag", dependencies=[requires(READ, DAGS)], response_model=None
)
def get_dag(
    dag_id: str, db: DbDep, principal: PrincipalDep, settings: SettingsDep, fields: FieldsDep
) -> DAG | JSONResponse:
    check_dag(principal, READ, dag_id)
    with db.read() as session:
        dag = DAG.from_row(dag_repo.require_dag(session, dag_id), FileTokens(settings))
    return JSONResponse(only_fields(dag, fields)) if fields else dag


@router.patch("/dags/{dag_id}", name="patch_dag", dependencies=[requires(EDIT, DAGS)])
def patch_dag(
    dag_id: str,
    body: DAGBody,
    db: DbDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    update_mask: MaskDep,
) -> DAG:
    check_dag(principal, EDIT, dag_id)
    is_paused = _is_paused_change(body, update_mask)
    change = dag_service.pause_dag if is_paused else dag_service.unpause_dag
    with db.write(is_paused=is_paused) as session:
        row = change(session, dag_id, now=datetime.now(UTC), owner=principal.username)
        dag = DAG.from_row(row, FileTokens(settings))
    if not is_paused:
        db.wake_scheduler()
    return dag


@router.delete(
    "/dags/{dag_id}", name="delete_dag", status_code=204, dependencies=[requires(DELETE, DAGS)]
)
def delete_dag(dag_id: str, db: DbDep, principal: PrincipalDep) -> Response:
    check_dag(principal, DELETE, dag_id)
    with db.write() as session:
        dag_service.delete_dag(session, dag_id)
    return Response(status_code=204)


@router.get(
    "/dags/{dag_id}/details",
    name="get_dag_details",
    dependencies=[requires(READ, DAGS)],
    response_model=None,
)
def get_dag_details(
    dag_id: str, db: DbDep, principal: PrincipalDep, settings: SettingsDep, fields: FieldsDep
) -> DAGDetail | JSONResponse:
    check_dag(principal, READ, dag_id)
    with db.read() as session:
        row = dag_repo.require_dag(session, dag_id)
        detail = DAGDetail.from_dag(
            row,
            dag_service.load_serialized_dag(session, dag_id),
            FileTokens(settings),
            catchup_by_default=settings.scheduler.catchup_by_default,
        )
    return JSONResponse(only_fields(detail, fields)) if fields else detail


@router.get("/dags/{dag_id}/tasks", name="get_tasks", dependencies=[requires(READ, TASK_INSTANCE)])
def get_tasks(
    dag_id: str, db: DbDep, principal: PrincipalDep, order_by: str | None = None
) -> TaskCollection:
    check_dag(principal, READ, dag_id)
    with db.read() as session:
        dag = dag_service.load_serialized_dag(session, dag_id)
    return TaskCollection.from_tasks(dag.tasks, order_by)


@router.get(
    "/dags/{dag_id}/tasks/{task_id}",
    name="get_task",
    dependencies=[requires(READ, TASK_INSTANCE)],
)
def get_task(dag_id: str, task_id: str, db: DbDep, principal: PrincipalDep) -> Task:
    check_dag(principal, READ, dag_id)
    with db.read() as session:
        dag = dag_service.load_serialized_dag(session, dag_id)
    return Task.from_task(dag.get_task(task_id))


def _is_paused_change(body: DAGBody, update_mask: list[str] | None) -> bool:
    """The ``is_paused`` a PATCH asks for.

    Raises:
        InvalidInput: the mask names another field, or the body has no boolean
            ``is_paused``.
    """
    if update_mask is not None and update_mask != ["is_paused"]:
        raise InvalidInput("Only `is_paused` field can be updated through the REST API")
    if body.is_paused is None:
        raise InvalidInput("is_paused: a boolean is required")
    return body.is_paused
