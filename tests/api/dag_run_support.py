"""DAGs and arranged state for the ``dagRuns`` API tests.

``random_failures`` (``task_action_support.RANDOM_FAILURES``) is the bundled example
the scenario drives (start >> random-task >> end); ``tuned`` has a Param ``n`` (an
integer >= 0, default 1). Runs are triggered through the API; :func:`start_run` then
gives one task instances as the scheduler would, without running a scheduler, so each
test states exactly what it starts from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from task_action_support import RANDOM_FAILURES, AddDagFile, Factory

from tradewind.services.dags import load_serialized_dag
from tradewind.storage.engine import transaction
from tradewind.storage.repositories.dag_runs import require_dag_run
from tradewind.storage.repositories.task_instances import create_task_instances, tis_of_run

TUNED = """
from datetime import datetime
from tradewind import DAG
from tradewind.operators import EmptyOperator
from tradewind.sdk import Param

with DAG(
    "tuned",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    params={"n": Param(1, type="integer", minimum=0)},
) as dag:
    EmptyOperator(task_id="only")
"""


def add_dags(add_dag_file: AddDagFile) -> None:
    """Store ``random_failures`` and ``tuned`` as the DAG processor does."""
    add_dag_file("random_failures.py", RANDOM_FAILURES)
    add_dag_file("tuned.py", TUNED)


def start_run(
    session_factory: Factory,
    dag_id: str,
    run_id: str,
    states: Mapping[str, str | None],
    *,
    run_state: str = "running",
) -> None:
    """Give the existing run its task instances in ``states`` (others NULL) and
    ``run_state`` (started now; a finished one also ended now)."""
    with transaction(session_factory) as session:
        run = require_dag_run(session, dag_id, run_id)
        run.state = run_state
        run.start_date = datetime.now(UTC)
        if run_state in ("success", "failed"):
            run.end_date = run.start_date
        create_task_instances(session, run, load_serialized_dag(session, dag_id))
        for ti in tis_of_run(session, dag_id, run_id):
            ti.state = states.get(ti.task_id)
            if ti.state is not None:
                ti.try_number = 1
