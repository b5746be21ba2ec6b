"""DAGs and arranged state for the ``taskInstances`` API tests.

``etl``: extract >> transform >> (load, report); retries 2 except report (0); load
``depends_on_past``; report runs in queue ``reports``. ``other``: one task ``only``.
Runs are made through ``services.dag_runs.trigger_dag_run`` and given task instances
as the scheduler would, in the states each test names, without running a scheduler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from api_support import PASSWORD_HASH
from sqlalchemy.orm import Session, sessionmaker

from tradewind.security.permissions import Permission, ensure_permissions
from tradewind.services.dag_runs import trigger_dag_run
from tradewind.services.dags import load_serialized_dag
from tradewind.storage.engine import transaction
from tradewind.storage.repositories.task_instances import (
    archive_try,
    create_task_instances,
    require_task_instance,
    tis_of_run,
)
from tradewind.storage.tables import DagRow, RoleRow, UserRow

DAGS = """
from datetime import datetime, timezone
from tradewind import DAG
from tradewind.operators import EmptyOperator

with DAG(
    "etl",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    default_args={"retries": 2},
) as etl:
    extract = EmptyOperator(task_id="extract", task_display_name="Extract rows")
    transform = EmptyOperator(task_id="transform")
    load = EmptyOperator(task_id="load", depends_on_past=True)
    report = EmptyOperator(task_id="report", retries=0, queue="reports")
    extract >> transform >> [load, report]

with DAG("other", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc)) as other:
    EmptyOperator(task_id="only")
"""

#: Runs are made at NOW + day days: in the past, so no logical date is in the future.
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)

AddDagFile = Callable[[str, str], None]
Factory = sessionmaker[Session]
#: task_id -> (state, try_number); unnamed tasks stay NULL at try 0.
States = Mapping[str, tuple[str | None, int]]


def add_dags(add_dag_file: AddDagFile, session_factory: Factory) -> None:
    """Store ``etl`` and ``other``, unpaused."""
    add_dag_file("etl.py", DAGS)
    with transaction(session_factory) as session:
        for dag_id in ("etl", "other"):
            row = session.get(DagRow, dag_id)
            assert row is not None
            row.is_paused = False


def make_run(
    session_factory: Factory,
    dag_id: str = "etl",
    *,
    day: int = 0,
    run_state: str = "running",
    states: States | None = None,
) -> str:
    """A run of ``dag_id`` at NOW + ``day`` days with task instances in ``states``.

    A task instance that ran started at the run's start and, once finished, took a
    minute (end date and duration set). Returns the run id.
    """
    with transaction(session_factory) as session:
        run = trigger_dag_run(session, dag_id, now=NOW + day * DAY)
        run.state = run_state
        run.start_date = NOW + day * DAY
        create_task_instances(session, run, load_serialized_dag(session, dag_id))
        for ti in tis_of_run(session, dag_id, run.run_id):
            state, try_number = (states or {}).get(ti.task_id, (None, 0))
            ti.state, ti.try_number = state, try_number
            if try_number:
                ti.start_date = run.start_date
                ti.hostname, ti.unixname, ti.pid = "worker-1", "tradewind", 4242
            if state in ("success", "failed", "upstream_failed", "skipped"):
                ti.end_date = run.start_date + timedelta(minutes=1)
                ti.duration = 60.0
        return run.run_id


def retry(session_factory: Factory, run_id: str, task_id: str, final_state: str) -> None:
    """Archive the current try of ``task_id`` as failed, then run the next one to
    ``final_state``: the history a retried task instance leaves."""
    with transaction(session_factory) as session:
        ti = require_task_instance(session, "etl", run_id, task_id)
        archive_try(session, ti, state="failed")
        ti.try_number += 1
        ti.state = final_state
        ti.hostname = "worker-2"


def add_user_with(session_factory: Factory, username: str, permissions: list[Permission]) -> None:
    """A user whose only role holds ``permissions`` (password: api_support.PASSWORD)."""
    with transaction(session_factory) as session:
        role = RoleRow(
            name=f"{username}_role", permissions=ensure_permissions(session, permissions)
        )
        session.add(role)
        session.add(
            UserRow(
                username=username,
                email=f"{username}@example.com",
                first_name=username,
                last_name="Tester",
                active=True,
                password_hash=PASSWORD_HASH,
                roles=[role],
            )
        )
