"""``tasks run`` end to end, on every backend: one task instance run for real through the
worker's path, its state, try number, history and log file recorded in the database."""

from __future__ import annotations

import os
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session, sessionmaker

from tradewind.cli.main import cli
from tradewind.config import Settings
from tradewind.services.dags import load_serialized_dag
from tradewind.storage.engine import transaction
from tradewind.storage.repositories.dag_runs import require_dag_run
from tradewind.storage.repositories.task_instances import (
    create_task_instances,
    require_task_instance,
)
from tradewind.storage.tables import LogRow, TaskInstanceHistoryRow, TaskInstanceRow

pytestmark = pytest.mark.db

PIPELINE = """
    from datetime import datetime, timedelta

    from tradewind import DAG
    from tradewind.operators.python import PythonOperator


    def broken():
        raise RuntimeError("this task always fails")


    with DAG("pipeline", schedule=None, start_date=datetime(2024, 1, 1)):
        extract = PythonOperator(
            task_id="extract", python_callable=lambda: print("hello from extract")
        )
        load = PythonOperator(
            task_id="load", python_callable=lambda: None, retries=2,
            retry_delay=timedelta(hours=1),
        )
        extract >> load
        PythonOperator(task_id="broken", python_callable=broken)
"""
RUN_ID = "r1"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("TRADEWIND__") or name == "TRADEWIND_DEBUG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path))


@pytest.fixture
def started(settings: Settings, session_factory: sessionmaker[Session]) -> None:
    """The DAG stored, one run triggered and started as the scheduler starts it."""
    folder = Path(settings.core.dags_folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pipeline.py").write_text(textwrap.dedent(PIPELINE), encoding="utf-8")
    trigger = ("dags", "trigger", "pipeline", "-r", RUN_ID, "-e", "2024-02-01")
    for args in (("dags", "list"), trigger):
        result = invoke(settings, *args)
        assert result.exit_code == 0, result.output
    with transaction(session_factory) as session:
        run = require_dag_run(session, "pipeline", RUN_ID)
        run.state = "running"
        create_task_instances(session, run, load_serialized_dag(session, "pipeline"))


def invoke(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=settings)


def run_task(settings: Settings, task_id: str, *args: str, run: str = RUN_ID) -> Result:
    return invoke(settings, "tasks", "run", "pipeline", task_id, run, *args)


def ti_of(session_factory: sessionmaker[Session], task_id: str) -> TaskInstanceRow:
    with transaction(session_factory) as session:
        return require_task_instance(session, "pipeline", RUN_ID, task_id)


def set_ti(session_factory: sessionmaker[Session], task_id: str, **values: object) -> None:
    with transaction(session_factory) as session:
        ti = require_task_instance(session, "pipeline", RUN_ID, task_id)
        for name, value in values.items():
            setattr(ti, name, value)


@pytest.mark.usefixtures("started")
def test_runs_and_records_a_task_instance(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    result = run_task(settings, "extract", "--local")
    assert result.exit_code == 0, result.output
    assert "pipeline.extract r1 try 1 success" in result.stdout
    ti = ti_of(session_factory, "extract")
    assert (ti.state, ti.try_number, ti.hostname != "", ti.pid) == ("success", 1, True, os.getpid())
    assert ti.start_date is not None and ti.end_date is not None and ti.duration is not None
    log = Path(settings.logging.base_log_folder).joinpath(
        "dag_id=pipeline", "run_id=r1", "task_id=extract", "attempt=1.log"
    )
    assert str(log) in result.stdout
    assert "hello from extract" in log.read_text()
    with transaction(session_factory) as session:
        events = session.scalars(sa.select(LogRow.event).where(LogRow.task_id == "extract")).all()
    assert events == ["task_run"]

    # The downstream task's dependency is now met; the run is named by its logical date.
    result = run_task(settings, "load", run="2024-02-01")
    assert result.exit_code == 0, result.output
    assert ti_of(session_factory, "load").state == "success"


@pytest.mark.usefixtures("started")
def test_a_failed_try_exits_1(settings: Settings, session_factory: sessionmaker[Session]) -> None:
    result = run_task(settings, "broken")
    assert result.exit_code == 1, result.output
    assert "try 1 failed: RuntimeError: this task always fails" in result.stdout
    ti = ti_of(session_factory, "broken")
    assert (ti.state, ti.try_number) == ("failed", 1)


@pytest.mark.usefixtures("started")
def test_unmet_dependencies_refuse_unless_ignored(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    result = run_task(settings, "load")
    assert result.exit_code == 1
    assert "Dependencies of <TaskInstance: pipeline.load r1 [None]> are not met" in result.stderr
    assert "trigger rule all_success says wait (0 of 1 upstream succeeded" in result.stderr
    assert ti_of(session_factory, "load").try_number == 0

    # up_for_retry within its retry delay (1 hour).
    set_ti(session_factory, "load", state="up_for_retry", try_number=1, end_date=datetime.now(UTC))
    set_ti(session_factory, "extract", state="success", try_number=1)
    result = run_task(settings, "load")
    assert result.exit_code == 1 and "retry delay: the next try is due at" in result.stderr

    result = run_task(settings, "load", "--ignore-dependencies")
    assert result.exit_code == 0, result.output
    ti = ti_of(session_factory, "load")
    assert (ti.state, ti.try_number) == ("success", 2)


@pytest.mark.usefixtures("started")
def test_refuses_a_running_task_instance_even_forced(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    set_ti(session_factory, "extract", state="running", try_number=1)
    for args in ((), ("--force",)):
        result = run_task(settings, "extract", *args)
        assert result.exit_code == 1
        assert "is running: a worker holds it; it cannot be run now" in result.stderr
    ti = ti_of(session_factory, "extract")
    assert (ti.state, ti.try_number) == ("running", 1)


@pytest.mark.usefixtures("started")
def test_force_runs_a_finished_task_instance_again(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    assert run_task(settings, "extract").exit_code == 0
    result = run_task(settings, "extract")
    assert result.exit_code == 1
    assert "is in the 'success' state; use --force" in result.stderr

    result = run_task(settings, "extract", "-f")
    assert result.exit_code == 0, result.output
    ti = ti_of(session_factory, "extract")
    assert (ti.state, ti.try_number) == ("success", 2)
    with transaction(session_factory) as session:
        history = session.execute(
            sa.select(TaskInstanceHistoryRow.try_number, TaskInstanceHistoryRow.state).where(
                TaskInstanceHistoryRow.task_id == "extract"
            )
        ).all()
    assert [tuple(row) for row in history] == [(1, "success")]
    log_folder = Path(settings.logging.base_log_folder, "dag_id=pipeline/run_id=r1/task_id=extract")
    assert sorted(path.name for path in log_folder.iterdir()) == ["attempt=1.log", "attempt=2.log"]


@pytest.mark.usefixtures("started")
def test_a_queued_try_is_claimed_as_it_is(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    set_ti(
        session_factory,
        "extract",
        state="queued",
        try_number=1,
        queued_dttm=datetime.now(UTC) - timedelta(seconds=1),
    )
    result = run_task(settings, "extract")
    assert result.exit_code == 0, result.output
    ti = ti_of(session_factory, "extract")
    assert (ti.state, ti.try_number) == ("success", 1)


@pytest.mark.usefixtures("started")
def test_unknown_names_are_one_line_errors(settings: Settings) -> None:
    for args, message in (
        (("missing", RUN_ID), "Error: Task 'missing' not found in DAG 'pipeline'"),
        (("extract", "nope"), "Error: DagRun for pipeline with run_id or logical date of 'nope'"),
        (("extract", RUN_ID, "-m", "3"), "Error: Task instance 'extract' (map index 3) not found"),
    ):
        result = invoke(settings, "tasks", "run", "pipeline", *args)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(message), result.stderr
