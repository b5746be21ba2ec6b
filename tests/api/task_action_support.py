"""Arranged runs for the clear/set-state, log and XCom API tests.

``random_failures`` is the bundled example the scenario drives (start >> random-task >>
end). :func:`arrange_run` makes a run of it at a chosen logical date with its task
instances in chosen states, as if a scheduler and workers had got that far, so each test
states exactly what it starts from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

import tradewind.example_dags
from tradewind.services.dag_runs import trigger_dag_run
from tradewind.services.dags import load_serialized_dag
from tradewind.storage.engine import transaction
from tradewind.storage.repositories.dag_runs import require_dag_run
from tradewind.storage.repositories.task_instances import create_task_instances, tis_of_run

RANDOM_FAILURES = (Path(tradewind.example_dags.__file__).parent / "random_failures.py").read_text()

#: A second DAG, for lists across DAGs.
OTHER = """
from datetime import datetime
from tradewind import DAG
from tradewind.operators import EmptyOperator

with DAG("other", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    EmptyOperator(task_id="only")
"""

AddDagFile = Callable[[str, str], None]
Factory = sessionmaker[Session]
#: What failed looks like after a run of random_failures whose coin came up tails.
TAILS = {"start": "success", "random-task": "failed", "end": "upstream_failed"}
HEADS = {"start": "success", "random-task": "success", "end": "success"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def arrange_run(
    session_factory: Factory,
    dag_id: str,
    logical_date: datetime,
    states: Mapping[str, str | None],
    *,
    run_state: str = "failed",
    run_id: str | None = None,
    try_number: int = 1,
    hostname: str = "worker-1",
) -> str:
    """A run at ``logical_date`` whose instances are in ``states`` (others NULL, never
    run); each instance in a state ran ``try_number`` tries on ``hostname``."""
    with transaction(session_factory) as session:
        run = trigger_dag_run(
            session, dag_id, now=logical_date, logical_date=logical_date, run_id=run_id
        )
        run.state = run_state
        run.start_date = logical_date
        create_task_instances(session, run, load_serialized_dag(session, dag_id))
        for ti in tis_of_run(session, dag_id, run.run_id):
            ti.state = states.get(ti.task_id)
            if ti.state is not None:
                ti.try_number = try_number
                ti.hostname = hostname
                ti.start_date = logical_date
        return run.run_id


def ti_states(session_factory: Factory, dag_id: str, run_id: str) -> dict[str, str | None]:
    with transaction(session_factory) as session:
        return {ti.task_id: ti.state for ti in tis_of_run(session, dag_id, run_id)}


def run_state(session_factory: Factory, dag_id: str, run_id: str) -> str:
    with transaction(session_factory) as session:
        return require_dag_run(session, dag_id, run_id).state
