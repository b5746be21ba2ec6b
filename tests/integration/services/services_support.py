"""A DAG stored as the DAG processor stores it, and runs of it in chosen states.

``etl``: extract >> transform >> (load, report); retries 2 except report (0); a
required-by-schema integer Param ``n``; daily schedule. Helpers build runs with task
instances directly, without a scheduler, so each test states exactly what it starts from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from tradewind.operators import EmptyOperator
from tradewind.sdk import DAG, Param
from tradewind.serialization import SerializedDAG, dag_hash, deserialize_dag, serialize_dag
from tradewind.services.dag_runs import trigger_dag_run
from tradewind.storage.repositories.task_instances import create_task_instances, tis_of_run
from tradewind.storage.tables import DagRow, DagRunRow, SerializedDagRow, TaskInstanceRow

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def build_etl() -> DAG:
    with DAG(
        "etl",
        schedule="@daily",
        start_date=datetime(2024, 1, 1, tzinfo=UTC),
        params={"n": Param(1, type="integer", minimum=0)},
        default_args={"retries": 2},
    ) as dag:
        extract = EmptyOperator(task_id="extract")
        transform = EmptyOperator(task_id="transform")
        load = EmptyOperator(task_id="load")
        report = EmptyOperator(task_id="report", retries=0)
        extract >> transform >> [load, report]
    return dag


def store_dag(session: Session, dag: DAG) -> SerializedDAG:
    document = serialize_dag(dag)
    session.add(DagRow(dag_id=dag.dag_id, is_active=True, fileloc="/dags/etl.py"))
    session.add(
        SerializedDagRow(
            dag_id=dag.dag_id, fileloc="/dags/etl.py", data=document, dag_hash=dag_hash(document)
        )
    )
    session.flush()
    return deserialize_dag(document)


RunMaker = Callable[..., DagRunRow]


def run_maker(session: Session, etl: SerializedDAG) -> RunMaker:
    """``make_run(day, run_state, {task_id: (state, try_number)})``: a run of ``etl`` at
    NOW + day days with its task instances in the given states (others NULL, try 0)."""

    def make(
        day: int = 0,
        run_state: str = "running",
        states: Mapping[str, tuple[str | None, int]] | None = None,
    ) -> DagRunRow:
        run = trigger_dag_run(session, "etl", now=NOW + day * DAY)
        run.state = run_state
        run.start_date = NOW + day * DAY
        if run_state in ("success", "failed"):
            run.end_date = NOW + day * DAY + timedelta(minutes=5)
        create_task_instances(session, run, etl)
        for ti in tis_of_run(session, "etl", run.run_id):
            state, try_number = (states or {}).get(ti.task_id, (None, 0))
            ti.state, ti.try_number = state, try_number
            if try_number:
                ti.start_date = run.start_date
                ti.hostname = "worker-1"
            if state in ("success", "failed", "upstream_failed", "skipped"):
                ti.end_date = run.start_date + timedelta(minutes=1)
                ti.duration = 60.0
        session.commit()
        return run

    return make


def ti_states(session: Session, run_id: str) -> dict[str, str | None]:
    session.expire_all()
    return {ti.task_id: ti.state for ti in tis_of_run(session, "etl", run_id)}


def ti_of(session: Session, run_id: str, task_id: str) -> TaskInstanceRow:
    session.expire_all()
    return next(ti for ti in tis_of_run(session, "etl", run_id) if ti.task_id == task_id)
