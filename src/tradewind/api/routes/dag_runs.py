"""``/dags/{dag_id}/dagRuns``: trigger, list, read, change, clear, annotate and delete runs.

Permissions are Airflow 2.10's pairs: reading needs ``can_read`` on the DAG and on DAG
Runs; triggering ``can_edit`` on the DAG and ``can_create`` on DAG Runs; changing,
clearing and annotating ``can_edit`` on both; deleting ``can_edit`` on the DAG and
``can_delete`` on DAG Runs. Lists over every DAG (``~``) show only readable DAGs' runs.
A trigger, state change or clear wakes the scheduler once committed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tradewind.api.deps import DbDep, PageDep, PrincipalDep, SettingsDep, requires
from tradewind.api.list_bodies import dag_run_list_json
from tradewind.api.model_response import JSON, model_response
from tradewind.api.query_dates import RunDates, run_dates_from_query
from tradewind.api.routes.dag_run_queries import (
    FieldsParam,
    StateParam,
    check_run_access,
    multi_value,
    readable_dag_ids,
    repo_order_by,
    require_run,
)
from tradewind.api.schemas.dag_run import (
    ClearDagRun,
    DAGRun,
    DAGRunBody,
    DAGRunCollection,
    ListDagRunsForm,
    SetDagRunNote,
    UpdateDagRunState,
    only_fields,
)
from tradewind.api.schemas.dataset import DatasetEventCollection
from tradewind.api.schemas.task_instance_reference import TaskInstanceReferenceCollection
from tradewind.security.permissions import CREATE, DAG_RUN, DATASET, DELETE, EDIT, READ
from tradewind.services import dag_runs
from tradewind.storage.repositories import dag_runs as run_repo
from tradewind.storage.repositories import datasets as dataset_repo

router = APIRouter(tags=["DAGRun"])

RUNS = "/dags/{dag_id}/dagRuns"
RUN = RUNS + "/{dag_run_id}"


@router.post(
    "/dags/~/dagRuns/list",
    name="get_dag_runs_batch",
    dependencies=[requires(READ, DAG_RUN)],
    response_model=DAGRunCollection,
)
def get_dag_runs_batch(
    body: ListDagRunsForm, db: DbDep, principal: PrincipalDep, settings: SettingsDep
) -> Response:
    readable = readable_dag_ids(principal)
    dag_ids = body.dag_ids or None
    if readable is not None:
        dag_ids = sorted(readable & set(dag_ids) if dag_ids else readable)
    with db.read() as session:
        found = run_repo.list_dag_run_records(
            session,
            dag_ids=dag_ids,
            states=body.states or None,
            logical_date_gte=body.execution_date_gte,
            logical_date_lte=body.execution_date_lte,
            start_date_gte=body.start_date_gte,
            start_date_lte=body.start_date_lte,
            end_date_gte=body.end_date_gte,
            end_date_lte=body.end_date_lte,
            order_by=repo_order_by(body.order_by),
            limit=min(body.page_limit, settings.api.maximum_page_limit),
            offset=body.page_offset,
        )
        return Response(dag_run_list_json(found), media_type=JSON)


@router.get(
    RUNS,
    name="get_dag_runs",
    response_model=DAGRunCollection,
    dependencies=[requires(READ, DAG_RUN)],
)
async def get_dag_runs(
    dag_id: str,
    db: DbDep,
    principal: PrincipalDep,
    page: PageDep,
    dates: Annotated[RunDates, Depends(run_dates_from_query)],
    state: StateParam = None,
    fields: FieldsParam = None,
) -> Response:
    every_dag = dag_id == "~"
    if not every_dag:
        check_run_access(principal, dag_id, dag=READ, run=READ)
    readable = readable_dag_ids(principal) if every_dag else None
    order_by = repo_order_by(page.order_by)
    wanted = multi_value(fields)

    def answer(session: Session) -> Response:
        found = run_repo.list_dag_run_records(
            session,
            None if every_dag else dag_id,
            dag_ids=None if readable is None else sorted(readable),
            states=multi_value(state),
            order_by=order_by,
            limit=page.limit,
            offset=page.offset,
            **dates,
        )
        if wanted is None:
            return Response(dag_run_list_json(found), media_type=JSON)
        collection = DAGRunCollection.from_rows(found.items, found.total_entries)
        runs = [only_fields(run.model_dump(mode="json"), wanted) for run in collection.dag_runs]
        return JSONResponse({"dag_runs": runs, "total_entries": collection.total_entries})

    # async, with the page read inline on SQLite: see Db.run_read.
    return await db.run_read(answer)


@router.post(RUNS, name="post_dag_run", dependencies=[requires(CREATE, DAG_RUN)])
def post_dag_run(dag_id: str, body: DAGRunBody, db: DbDep, principal: PrincipalDep) -> DAGRun:
    check_run_access(principal, dag_id, dag=EDIT, run=CREATE)
    logical_date = body.requested_logical_date()
    data_interval = body.requested_data_interval()
    conf = body.requested_conf()
    with db.write() as session:
        dag_runs.require_triggerable_dag(session, dag_id)
        run = dag_runs.trigger_dag_run(
            session,
            dag_id,
            now=datetime.now(UTC),
            run_id=body.dag_run_id,
            logical_date=logical_date,
            data_interval=data_interval,
            conf=conf,
            note=body.note,
            owner=principal.username,
        )
        triggered = DAGRun.from_row(run)
    db.wake_scheduler()
    return triggered


@router.get(RUN, name="get_dag_run", response_model=DAGRun, dependencies=[requires(READ, DAG_RUN)])
def get_dag_run(
    dag_id: str, dag_run_id: str, db: DbDep, principal: PrincipalDep, fields: FieldsParam = None
) -> DAGRun | JSONResponse:
    check_run_access(principal, dag_id, dag=READ, run=READ)
    with db.read() as session:
        run = DAGRun.from_row(require_run(session, dag_id, dag_run_id))
    wanted = multi_value(fields)
    if wanted is None:
        return run
    return JSONResponse(only_fields(run.model_dump(mode="json"), wanted))


@router.delete(
    RUN, name="delete_dag_run", status_code=204, dependencies=[requires(DELETE, DAG_RUN)]
)
def delete_dag_run(dag_id: str, dag_run_id: str, db: DbDep, principal: PrincipalDep) -> Response:
    check_run_access(principal, dag_id, dag=EDIT, run=DELETE)
    with db.write() as session:
        require_run(session, dag_id, dag_run_id)
        dag_runs.delete_dag_run(
            session, dag_id, dag_run_id, now=datetime.now(UTC), owner=principal.username
        )
    return Response(status_code=204)


@router.patch(RUN, name="update_dag_run_state", dependencies=[requires(EDIT, DAG_RUN)])
def update_dag_run_state(
    dag_id: str, dag_run_id: str, body: UpdateDagRunState, db: DbDep, principal: PrincipalDep
) -> DAGRun:
    check_run_access(principal, dag_id, dag=EDIT, run=EDIT)
    with db.write(state=body.state) as session:
        require_run(session, dag_id, dag_run_id)
        change = dag_runs.set_dag_run_state(
            session,
            dag_id,
            dag_run_id,
            body.state,
            now=datetime.now(UTC),
            owner=principal.username,
        )
        updated = DAGRun.from_row(change.run)
    db.wake_scheduler()
    return updated


@router.post(RUN + "/clear", name="clear_dag_run", dependencies=[requires(EDIT, DAG_RUN)])
def clear_dag_run(
    dag_id: str, dag_run_id: str, body: ClearDagRun, db: DbDep, principal: PrincipalDep
) -> DAGRun | TaskInstanceReferenceCollection:
    check_run_access(principal, dag_id, dag=EDIT, run=EDIT)
    now = datetime.now(UTC)
    if body.dry_run:
        with db.read() as session:
            run = require_run(session, dag_id, dag_run_id)
            planned = dag_runs.clear_dag_run(session, dag_id, dag_run_id, now=now, dry_run=True)
            return TaskInstanceReferenceCollection.from_rows(
                planned.task_instances, {run.run_id: run.logical_date}
            )
    with db.write() as session:
        require_run(session, dag_id, dag_run_id)
        cleared = dag_runs.clear_dag_run(
            session, dag_id, dag_run_id, now=now, owner=principal.username
        )
        result = DAGRun.from_row(cleared.run)
    db.wake_scheduler()
    return result


@router.get(
    RUN + "/upstreamDatasetEvents",
    name="get_upstream_dataset_events",
    tags=["Dataset"],
    dependencies=[requires(READ, DAG_RUN), requires(READ, DATASET)],
    response_model=DatasetEventCollection,
)
def get_upstream_dataset_events(
    dag_id: str, dag_run_id: str, db: DbDep, principal: PrincipalDep
) -> Response:
    """The dataset events that triggered the run (none for a run not dataset-triggered)."""
    check_run_access(principal, dag_id, dag=READ, run=READ)
    with db.read() as session:
        run = require_run(session, dag_id, dag_run_id)
        events = dataset_repo.events_consumed_by_run(session, run.id)
        uris = dataset_repo.dataset_uris(session, {event.dataset_id for event in events})
        created = dataset_repo.created_dagruns(session, [event.id for event in events])
        return model_response(DatasetEventCollection.from_rows(events, uris, created, len(events)))


@router.patch(RUN + "/setNote", name="set_dag_run_note", dependencies=[requires(EDIT, DAG_RUN)])
def set_dag_run_note(
    dag_id: str, dag_run_id: str, body: SetDagRunNote, db: DbDep, principal: PrincipalDep
) -> DAGRun:
    check_run_access(principal, dag_id, dag=EDIT, run=EDIT)
    with db.write() as session:
        require_run(session, dag_id, dag_run_id)
        return DAGRun.from_row(dag_runs.set_dag_run_note(session, dag_id, dag_run_id, body.note))
