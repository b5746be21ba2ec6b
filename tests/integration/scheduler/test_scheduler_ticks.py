"""The scheduler loop, stepped tick by tick over the InlineExecutor (real workers)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from scheduler_support import Clock, drive, run_state, store_dag_file, ti_states, trigger
from sqlalchemy.orm import Session, sessionmaker

from tradewind.scheduler.loop import Scheduler
from tradewind.storage.engine import transaction
from tradewind.storage.tables import DagRow, DagRunRow, JobRow, TaskInstanceHistoryRow

pytestmark = pytest.mark.db

CHAIN = """
from datetime import datetime
from tradewind import DAG
from tradewind.operators.python import PythonOperator

with DAG("chain", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    a = PythonOperator(task_id="a", python_callable=lambda: "a")
    b = PythonOperator(task_id="b", python_callable=lambda: "b")
    c = PythonOperator(task_id="c", python_callable=lambda: "c")
    a >> b >> c
"""


def test_a_triggered_run_of_a_chain_runs_to_success(
    scheduler: Scheduler, session_factory: sessionmaker[Session], dags_folder: Path
) -> None:
    store_dag_file(session_factory, dags_folder, "chain", CHAIN)
    run_id = trigger(session_factory, "chain")

    ticks = drive(scheduler, lambda: run_state(session_factory, "chain", run_id) == "success")

    assert run_state(session_factory, "chain", run_id) == "success"
    assert ti_states(session_factory, "chain") == {
        (run_id, "a"): ("success", 1),
        (run_id, "b"): ("success", 1),
        (run_id, "c"): ("success", 1),
    }
    assert ticks[0].runs_started == 1 and ticks[0].tis_created == 3
    assert sum(t.tis_queued for t in ticks) == 3
    with transaction(session_factory) as session:
        job = session.scalars(sa.select(JobRow)).one()
        run = session.scalars(sa.select(DagRunRow)).one()
    assert (job.job_type, job.state, job.id) == ("SchedulerJob", "running", scheduler.job_id)
    assert run.start_date is not None and run.end_date is not None


def test_a_quiet_tick_changes_nothing(
    scheduler: Scheduler, session_factory: sessionmaker[Session], dags_folder: Path
) -> None:
    store_dag_file(session_factory, dags_folder, "chain", CHAIN)
    assert not scheduler.tick().changed
    assert not scheduler.tick().changed


CRON = """
from datetime import datetime
from tradewind import DAG
from tradewind.operators.python import PythonOperator

with DAG("daily", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonOperator(task_id="only", python_callable=lambda: None)
"""


def test_a_cron_dag_with_catchup_gets_every_missed_run(
    scheduler: Scheduler, session_factory: sessionmaker[Session], dags_folder: Path
) -> None:
    store_dag_file(session_factory, dags_folder, "daily", CRON)

    drive(scheduler)

    with transaction(session_factory) as session:
        runs = session.execute(
            sa.select(DagRunRow.logical_date, DagRunRow.run_type, DagRunRow.state).order_by(
                DagRunRow.logical_date
            )
        ).all()
        dag = session.get(DagRow, "daily")
        assert dag is not None
        next_run = (dag.next_dagrun, dag.next_dagrun_create_after)
    days = [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
    assert runs == [(day, "scheduled", "success") for day in days]
    # 2024-01-04's interval ends at midnight on the 5th; the clock is at noon on the 4th.
    assert next_run == (datetime(2024, 1, 4, tzinfo=UTC), datetime(2024, 1, 5, tzinfo=UTC))
    assert not scheduler.tick().changed


def test_a_paused_dags_manual_run_waits_queued_until_unpaused(
    scheduler: Scheduler, session_factory: sessionmaker[Session], dags_folder: Path
) -> None:
    store_dag_file(session_factory, dags_folder, "chain", CHAIN, paused=True)
    run_id = trigger(session_factory, "chain")

    drive(scheduler)
    assert run_state(session_factory, "chain", run_id) == "queued"
    assert ti_states(session_factory, "chain") == {}

    with transaction(session_factory) as session:
        session.execute(sa.update(DagRow).where(DagRow.dag_id == "chain").values(is_paused=False))
    drive(scheduler, lambda: run_state(session_factory, "chain", run_id) == "success")
    assert run_state(session_factory, "chain", run_id) == "success"


def flaky_dag(marker: Path) -> str:
    return f"""
from datetime import datetime, timedelta
from pathlib import Path
from tradewind import DAG
from tradewind.operators.python import PythonOperator

def fail_once():
    marker = Path({str(marker)!r})
    if not marker.exists():
        marker.write_text("failed once")
        raise ValueError("first try fails")

with DAG("flaky", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    PythonOperator(
        task_id="flaky", python_callable=fail_once, retries=1, retry_delay=timedelta(0)
    )
"""


def test_a_failing_try_is_retried(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    tmp_path: Path,
) -> None:
    store_dag_file(session_factory, dags_folder, "flaky", flaky_dag(tmp_path / "marker"))
    run_id = trigger(session_factory, "flaky")

    drive(scheduler, lambda: run_state(session_factory, "flaky", run_id) == "success")

    assert ti_states(session_factory, "flaky") == {(run_id, "flaky"): ("success", 2)}
    with transaction(session_factory) as session:
        tries = session.execute(
            sa.select(TaskInstanceHistoryRow.try_number, TaskInstanceHistoryRow.state)
        ).all()
    assert tries == [(1, "failed")]


def test_a_schedule_change_moves_the_next_run(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
) -> None:
    store_dag_file(
        session_factory, dags_folder, "daily", CRON.replace("catchup=True", "catchup=False")
    )
    drive(scheduler)
    store_dag_file(
        session_factory,
        dags_folder,
        "daily",
        CRON.replace('"@daily"', '"0 18 * * *"').replace("catchup=True", "catchup=False"),
    )
    drive(scheduler)
    with transaction(session_factory) as session:
        dag = session.get(DagRow, "daily")
        assert dag is not None
        assert dag.next_dagrun_create_after == datetime(2024, 1, 4, 18, tzinfo=UTC)
