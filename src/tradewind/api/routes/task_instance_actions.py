"""``clearTaskInstances`` and ``updateTaskInstancesState``: acting on many task instances.

Both need ``can_edit`` on the DAG (``DAGs`` or ``DAG:<id>``) and on Task Instances, as
Airflow's ``requires_access_dag("PUT", TASK_INSTANCE)``. Both default to a dry run,
which changes nothing and answers with the instances that would change; a real run
wakes the scheduler once committed, so cleared instances run again at once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from tradewind.api.deps import DbDep, PrincipalDep, check_dag, requires
from tradewind.api.schemas.task_instance_reference import (
    ClearTaskInstances,
    TaskInstanceReferenceCollection,
    UpdateTaskInstancesState,
)
from tradewind.security.permissions import DAG, EDIT, TASK_INSTANCE
from tradewind.services import task_instance_batches as batches
from tradewind.services.task_instances import clear_task_instances, set_task_instance_state

router = APIRouter(tags=["DAG"])

_EDIT_TASK_INSTANCES = [requires(EDIT, TASK_INSTANCE), requires(EDIT, DAG)]
#: Body fields passed on under their own names.
_CLEAR_OPTIONS = {
    "start_date",
    "end_date",
    "only_failed",
    "only_running",
    "reset_dag_runs",
    "dry_run",
    "include_upstream",
    "include_downstream",
    "include_future",
    "include_past",
}
_MARK_OPTIONS = {"include_upstream", "include_downstream", "include_future", "include_past"}


@router.post(
    "/dags/{dag_id}/clearTaskInstances",
    name="post_clear_task_instances",
    dependencies=_EDIT_TASK_INSTANCES,
)
def post_clear_task_instances(
    dag_id: str, body: ClearTaskInstances, db: DbDep, principal: PrincipalDep
) -> TaskInstanceReferenceCollection:
    check_dag(principal, EDIT, dag_id)
    with db.write(dry_run=body.dry_run) as session:
        dag = batches.dag_to_clear(session, dag_id, body.dag_run_id)
        tis = clear_task_instances(
            session,
            dag_id,
            serialized_dag=dag,
            now=datetime.now(UTC),
            owner=principal.username,
            task_ids=batches.known_tasks(dag, body.task_ids),
            run_ids=None if body.dag_run_id is None else [body.dag_run_id],
            **body.model_dump(include=_CLEAR_OPTIONS),
        )
        dates = batches.logical_dates(session, dag_id, {ti.run_id for ti in tis})
        found = TaskInstanceReferenceCollection.from_rows(tis, dates)
    if tis and not body.dry_run:
        db.wake_scheduler()
    return found


@router.post(
    "/dags/{dag_id}/updateTaskInstancesState",
    name="post_set_task_instances_state",
    dependencies=_EDIT_TASK_INSTANCES,
)
def post_set_task_instances_state(
    dag_id: str, body: UpdateTaskInstancesState, db: DbDep, principal: PrincipalDep
) -> TaskInstanceReferenceCollection:
    check_dag(principal, EDIT, dag_id)
    with db.write(dry_run=body.dry_run, state=body.new_state) as session:
        run_id = batches.run_to_mark(
            session, dag_id, body.task_id, run_id=body.dag_run_id, logical_date=body.execution_date
        )
        tis = set_task_instance_state(
            session,
            dag_id,
            run_id,
            body.task_id,
            state=body.new_state,
            now=datetime.now(UTC),
            owner=principal.username,
            dry_run=body.dry_run,
            **body.model_dump(include=_MARK_OPTIONS),
        )
        dates = batches.logical_dates(session, dag_id, {ti.run_id for ti in tis})
        found = TaskInstanceReferenceCollection.from_rows(tis, dates)
    if not body.dry_run:
        db.wake_scheduler()
    return found
