"""``.../taskInstances``: list, read and change task instances and their tries.

Every route needs its permission on ``Task Instances`` and the same action on the DAG
(``DAGs`` or ``DAG:<id>``), as Airflow's ``requires_access_dag``; lists across DAGs
(``~``) show only the DAGs the user may read.

**Route order.** ``{map_index}`` is declared with Starlette's ``int`` convertor
(digits only), so the literal segments after ``{task_id}`` (``listMapped``,
``dependencies``, ``tries``, ``links``, ``setNote``, and the ``logs`` and
``xcomEntries`` of other routers) never match it: ``/t/xcomEntries`` reaches the XCom
router however the routers are ordered, and ``/t/-1`` or ``/t/abc`` is a 404, as in
Airflow (whose Flask ``int`` converter refuses them too). Within this module the
literal routes are still declared first, so the order alone would be enough.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from tradewind.api.auth.middleware import Principal
from tradewind.api.deps import (
    Db,
    DbDep,
    PageDep,
    PageParams,
    PrincipalDep,
    SettingsDep,
    check_dag,
    requires,
)
from tradewind.api.model_response import model_response
from tradewind.api.schemas.task_instance import (
    ExtraLinkCollection,
    ListTaskInstanceForm,
    SetTaskInstanceNote,
    TaskInstance,
    TaskInstanceCollection,
    TaskInstanceDependencyCollection,
    TaskInstanceHistory,
    TaskInstanceHistoryCollection,
    UpdateTaskInstance,
)
from tradewind.api.schemas.task_instance_reference import TaskInstanceReference
from tradewind.api.task_instance_filters import TaskInstanceFilters, task_instance_filters
from tradewind.errors import InvalidInput, PermissionDenied
from tradewind.security.permissions import DAG, EDIT, READ, TASK_INSTANCE
from tradewind.services.mapped_task_instances import list_mapped_task_instances
from tradewind.services.task_instance_dependencies import unmet_dependencies
from tradewind.services.task_instances import set_task_instance_state
from tradewind.storage.repositories import task_instances as ti_repo
from tradewind.storage.repositories.task_instance_details import load_details

router = APIRouter(tags=["TaskInstance"])

FiltersDep = Annotated[TaskInstanceFilters, Depends(task_instance_filters)]
#: The default order of lists, as Airflow's (ties broken by id).
_DEFAULT_ORDER = "map_index"
_TIS = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances"
_TI = _TIS + "/{task_id}"
_MAPPED = _TIS + "/{task_id}/{map_index:int}"
_READ = [requires(READ, TASK_INSTANCE)]
_EDIT = [requires(EDIT, TASK_INSTANCE)]


@router.get(
    _TIS, name="get_task_instances", dependencies=_READ, response_model=TaskInstanceCollection
)
def get_task_instances(
    dag_id: str,
    dag_run_id: str,
    db: DbDep,
    page: PageDep,
    principal: PrincipalDep,
    filters: FiltersDep,
) -> Response:
    dag_ids = None
    if dag_id == "~":
        dag_ids = principal.grants.dag_filter(READ)
    else:
        check_dag(principal, READ, dag_id)
    with db.read() as session:
        found = ti_repo.list_task_instances(
            session,
            None if dag_id == "~" else dag_id,
            None if dag_run_id == "~" else dag_run_id,
            dag_ids=dag_ids,
            order_by=page.order_by or _DEFAULT_ORDER,
            limit=page.limit,
            offset=page.offset,
            **filters.query(),
        )
        return model_response(
            TaskInstanceCollection.from_page(found, load_details(session, found.items))
        )


@router.post(
    "/dags/~/dagRuns/~/taskInstances/list",
    name="get_task_instances_batch",
    dependencies=_READ,
    response_model=TaskInstanceCollection,
)
def get_task_instances_batch(
    body: ListTaskInstanceForm, db: DbDep, principal: PrincipalDep, settings: SettingsDep
) -> Response:
    dag_ids = _batch_dag_ids(principal, body.dag_ids)
    with db.read() as session:
        found = ti_repo.list_task_instances(
            session,
            dag_ids=dag_ids,
            run_ids=body.dag_run_ids,
            task_ids=body.task_ids,
            order_by=body.order_by or _DEFAULT_ORDER,
            limit=min(body.page_limit, settings.api.maximum_page_limit),
            offset=body.page_offset,
            **TaskInstanceFilters.from_form(body).query(),
        )
        return model_response(
            TaskInstanceCollection.from_page(found, load_details(session, found.items))
        )


@router.get(
    _TI + "/listMapped",
    name="get_mapped_task_instances",
    dependencies=_READ,
    response_model=TaskInstanceCollection,
)
def get_mapped_task_instances(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    db: DbDep,
    page: PageDep,
    principal: PrincipalDep,
    filters: FiltersDep,
) -> Response:
    check_dag(principal, READ, dag_id)
    with db.read() as session:
        found = list_mapped_task_instances(
            session,
            dag_id,
            dag_run_id,
            task_id,
            order_by=page.order_by or _DEFAULT_ORDER,
            limit=page.limit,
            offset=page.offset,
            **filters.query(),
        )
        return model_response(
            TaskInstanceCollection.from_page(found, load_details(session, found.items))
        )


@router.get(
    _TI + "/links", name="get_extra_links", dependencies=_READ, response_model=ExtraLinkCollection
)
def get_extra_links(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    db: DbDep,
    principal: PrincipalDep,
    map_index: int = -1,
) -> Response:
    check_dag(principal, READ, dag_id)
    with db.read() as session:
        ti_repo.require_task_instance(session, dag_id, dag_run_id, task_id, map_index)
    # No built-in operator defines extra links yet.
    return model_response(ExtraLinkCollection({}))


@router.get(
    _TI + "/dependencies",
    name="get_task_instance_dependencies",
    dependencies=_READ,
    response_model=TaskInstanceDependencyCollection,
)
def get_task_instance_dependencies(
    dag_id: str, dag_run_id: str, task_id: str, db: DbDep, principal: PrincipalDep
) -> Response:
    return model_response(_dependencies(db, principal, dag_id, dag_run_id, task_id, -1))


@router.get(
    _TI + "/tries",
    name="get_task_instance_tries",
    dependencies=_READ,
    response_model=TaskInstanceHistoryCollection,
)
def get_task_instance_tries(
    dag_id: str, dag_run_id: str, task_id: str, db: DbDep, page: PageDep, principal: PrincipalDep
) -> Response:
    return model_response(_tries(db, principal, page, dag_id, dag_run_id, task_id, -1))


@router.get(
    _TI + "/tries/{task_try_number:int}",
    name="get_task_instance_try_details",
    dependencies=_READ,
)
def get_task_instance_try_details(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    task_try_number: int,
    db: DbDep,
    principal: PrincipalDep,
) -> TaskInstanceHistory:
    return _try(db, principal, dag_id, dag_run_id, task_id, -1, task_try_number)


@router.patch(_TI + "/setNote", name="set_task_instance_note", dependencies=_EDIT)
def set_task_instance_note(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    body: SetTaskInstanceNote,
    db: DbDep,
    principal: PrincipalDep,
) -> TaskInstance:
    return _set_note(db, principal, body, dag_id, dag_run_id, task_id, -1)


@router.get(_TI, name="get_task_instance", dependencies=_READ)
def get_task_instance(
    dag_id: str, dag_run_id: str, task_id: str, db: DbDep, principal: PrincipalDep
) -> TaskInstance:
    return _task_instance(db, principal, dag_id, dag_run_id, task_id, -1)


@router.patch(_TI, name="patch_task_instance", dependencies=_EDIT)
def patch_task_instance(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    body: UpdateTaskInstance,
    db: DbDep,
    principal: PrincipalDep,
) -> TaskInstanceReference:
    return _patch(db, principal, body, dag_id, dag_run_id, task_id, -1)


@router.get(
    _MAPPED + "/dependencies",
    name="get_mapped_task_instance_dependencies",
    dependencies=_READ,
    response_model=TaskInstanceDependencyCollection,
)
def get_mapped_task_instance_dependencies(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: int,
    db: DbDep,
    principal: PrincipalDep,
) -> Response:
    return model_response(_dependencies(db, principal, dag_id, dag_run_id, task_id, map_index))


@router.get(
    _MAPPED + "/tries",
    name="get_mapped_task_instance_tries",
    dependencies=_READ,
    response_model=TaskInstanceHistoryCollection,
)
def get_mapped_task_instance_tries(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: int,
    db: DbDep,
    page: PageDep,
    principal: PrincipalDep,
) -> Response:
    return model_response(_tries(db, principal, page, dag_id, dag_run_id, task_id, map_index))


@router.get(
    _MAPPED + "/tries/{task_try_number:int}",
    name="get_mapped_task_instance_try_details",
    dependencies=_READ,
)
def get_mapped_task_instance_try_details(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: int,
    task_try_number: int,
    db: DbDep,
    principal: PrincipalDep,
) -> TaskInstanceHistory:
    return _try(db, principal, dag_id, dag_run_id, task_id, map_index, task_try_number)


@router.patch(_MAPPED + "/setNote", name="set_mapped_task_instance_note", dependencies=_EDIT)
def set_mapped_task_instance_note(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: int,
    body: SetTaskInstanceNote,
    db: DbDep,
    principal: PrincipalDep,
) -> TaskInstance:
    return _set_note(db, principal, body, dag_id, dag_run_id, task_id, map_index)


@router.get(_MAPPED, name="get_mapped_task_instance", dependencies=_READ)
def get_mapped_task_instance(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: int,
    db: DbDep,
    principal: PrincipalDep,
) -> TaskInstance:
    return _task_instance(db, principal, dag_id, dag_run_id, task_id, map_index)


@router.patch(_MAPPED, name="patch_mapped_task_instance", dependencies=_EDIT)
def patch_mapped_task_instance(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: int,
    body: UpdateTaskInstance,
    db: DbDep,
    principal: PrincipalDep,
) -> TaskInstanceReference:
    return _patch(db, principal, body, dag_id, dag_run_id, task_id, map_index)


def _batch_dag_ids(principal: Principal, wanted: list[str] | None) -> frozenset[str] | None:
    """The DAGs a batch list may read: all of ``wanted`` (else 403), or all readable."""
    if not wanted:
        return principal.grants.dag_filter(READ)
    if not all(principal.grants.allows_dag(READ, dag_id, DAG) for dag_id in wanted):
        raise PermissionDenied(f"User not allowed to access some of these DAGs: {wanted}")
    return frozenset(wanted)


def _task_instance(
    db: Db, principal: Principal, dag_id: str, run_id: str, task_id: str, map_index: int
) -> TaskInstance:
    check_dag(principal, READ, dag_id)
    with db.read() as session:
        row = ti_repo.require_task_instance(session, dag_id, run_id, task_id, map_index)
        return TaskInstance.from_details(row, load_details(session, [row]))


def _patch(
    db: Db,
    principal: Principal,
    body: UpdateTaskInstance,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int,
) -> TaskInstanceReference:
    check_dag(principal, EDIT, dag_id)
    transaction = db.read() if body.dry_run else db.write(new_state=body.new_state)
    with transaction as session:
        set_task_instance_state(
            session,
            dag_id,
            run_id,
            task_id,
            map_index,
            state=body.new_state,
            now=datetime.now(UTC),
            dry_run=body.dry_run,
            owner=principal.username,
        )
        reference = _reference(session, dag_id, run_id, task_id, map_index)
    if not body.dry_run:
        db.wake_scheduler()
    return reference


def _reference(
    session: Session, dag_id: str, run_id: str, task_id: str, map_index: int
) -> TaskInstanceReference:
    row = ti_repo.require_task_instance(session, dag_id, run_id, task_id, map_index)
    return TaskInstanceReference.from_row(row, load_details(session, [row]).logical_date(row))


def _set_note(
    db: Db,
    principal: Principal,
    body: SetTaskInstanceNote,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int,
) -> TaskInstance:
    check_dag(principal, EDIT, dag_id)
    with db.write() as session:
        row = ti_repo.update_note(session, dag_id, run_id, task_id, map_index, body.note)
        return TaskInstance.from_details(row, load_details(session, [row]))


def _dependencies(
    db: Db, principal: Principal, dag_id: str, run_id: str, task_id: str, map_index: int
) -> TaskInstanceDependencyCollection:
    check_dag(principal, READ, dag_id)
    with db.read() as session:
        failed = unmet_dependencies(
            session, dag_id, run_id, task_id, map_index, now=datetime.now(UTC)
        )
    return TaskInstanceDependencyCollection.from_failed(failed)


def _tries(
    db: Db,
    principal: Principal,
    page: PageParams,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int,
) -> TaskInstanceHistoryCollection:
    if page.order_by not in (None, "try_number", "-try_number"):
        raise InvalidInput(f"Ordering with '{page.order_by}' is not supported")
    check_dag(principal, READ, dag_id)
    with db.read() as session:
        tries = ti_repo.list_all_tries(session, dag_id, run_id, task_id, map_index)
        if page.order_by == "-try_number":
            tries.reverse()
        chosen = tries[page.offset : page.offset + page.limit]
        return TaskInstanceHistoryCollection.from_rows(chosen, len(tries))


def _try(
    db: Db,
    principal: Principal,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int,
    try_number: int,
) -> TaskInstanceHistory:
    check_dag(principal, READ, dag_id)
    with db.read() as session:
        row = ti_repo.require_try(session, dag_id, run_id, task_id, map_index, try_number)
        return TaskInstanceHistory.from_row(row)
