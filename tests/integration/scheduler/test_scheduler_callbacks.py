"""DAG-level callbacks: requested in the transaction that finishes the run, run once
in a forked child with Airflow's context, deleted afterwards; re-run when the
scheduler that claimed them died before deleting them."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from scheduler_support import Clock, drive, run_state, store_dag_file, trigger
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings
from tradewind.dag_processing.processor import collect_dags
from tradewind.scheduler.callbacks import CallbackRunner
from tradewind.scheduler.loop import Scheduler
from tradewind.storage.engine import transaction
from tradewind.storage.tables import CallbackRequestRow, JobRow

pytestmark = pytest.mark.db


def callback_dag(out: Path, *, fail: bool, success_cb: bool, failure_cb: bool) -> str:
    return f"""
from datetime import datetime
from tradewind import DAG
from tradewind.operators.python import PythonOperator

def record(context):
    with open({str(out)!r}, "a") as f:
        f.write(" ".join([
            context["reason"], context["dag_run"].run_id, context["ti"].task_id,
            context["dag"].dag_id,
        ]) + "\\n")

def work():
    if {fail!r}:
        raise ValueError("boom")

with DAG(
    "cb", schedule=None, start_date=datetime(2024, 1, 1),
    on_success_callback={"record" if success_cb else "None"},
    on_failure_callback={"[record]" if failure_cb else "None"},
) as dag:
    PythonOperator(task_id="first", python_callable=lambda: None) >> PythonOperator(
        task_id="last", python_callable=work
    )
"""


def requests(session_factory: sessionmaker[Session]) -> list[tuple[str, object]]:
    with transaction(session_factory) as session:
        rows = session.execute(
            sa.select(CallbackRequestRow.run_id, CallbackRequestRow.callback_data)
        ).all()
    return [(run_id, data) for run_id, data in rows]


def finish_run(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    source: str,
    expected: str,
) -> str:
    store_dag_file(session_factory, dags_folder, "cb", source)
    run_id = trigger(session_factory, "cb")
    drive(scheduler)
    assert run_state(session_factory, "cb", run_id) == expected
    return run_id


def run_callbacks(
    settings: Settings, session_factory: sessionmaker[Session], job_id: int | None
) -> None:
    runner = CallbackRunner(settings, collect_dags)
    runner.step(session_factory, job_id, 1)
    runner.end(session_factory, 60.0)


@pytest.mark.parametrize(
    ("fail", "expected", "reason"),
    [(False, "success", "success"), (True, "failed", "task_failure")],
)
def test_the_dag_callback_runs_once_with_airflow_s_context(
    scheduler: Scheduler,
    settings: Settings,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    tmp_path: Path,
    fail: bool,
    expected: str,
    reason: str,
) -> None:
    out = tmp_path / "callbacks.txt"
    source = callback_dag(out, fail=fail, success_cb=True, failure_cb=True)
    run_id = finish_run(scheduler, session_factory, dags_folder, source, expected)
    assert [r for r, _ in requests(session_factory)] == [run_id]

    run_callbacks(settings, session_factory, scheduler.job_id)
    run_callbacks(settings, session_factory, scheduler.job_id)

    assert out.read_text() == f"{reason} {run_id} last cb\n"
    assert requests(session_factory) == []


@pytest.mark.parametrize("fail", [False, True])
def test_no_request_is_made_when_the_dag_has_no_such_callback(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    tmp_path: Path,
    fail: bool,
) -> None:
    out = tmp_path / "callbacks.txt"
    # Only the callback of the other outcome is defined.
    source = callback_dag(out, fail=fail, success_cb=fail, failure_cb=not fail)
    finish_run(scheduler, session_factory, dags_folder, source, "failed" if fail else "success")

    assert requests(session_factory) == []
    assert not out.exists()


def test_a_request_claimed_by_a_scheduler_that_died_runs_again(
    scheduler: Scheduler,
    settings: Settings,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
    tmp_path: Path,
) -> None:
    out = tmp_path / "callbacks.txt"
    source = callback_dag(out, fail=False, success_cb=True, failure_cb=False)
    run_id = finish_run(scheduler, session_factory, dags_folder, source, "success")
    with transaction(session_factory) as session:  # claimed, then the claimer died
        session.execute(
            sa.update(CallbackRequestRow).values(
                claimed_by_job_id=scheduler.job_id, claimed_at=clock()
            )
        )
    live_runner = CallbackRunner(settings, collect_dags)
    live_runner.step(session_factory, scheduler.job_id, 1)
    assert live_runner.running == 0  # its claimer is alive: nobody else may run it

    with transaction(session_factory) as session:
        session.execute(sa.update(JobRow).values(state="failed"))
    run_callbacks(settings, session_factory, scheduler.job_id)

    assert out.read_text() == f"success {run_id} last cb\n"
    assert requests(session_factory) == []
