"""``Scheduler.run`` in a thread: woken by notifications, surviving database errors.

The safety-net sweep is set to a minute, so a run that starts within the tests'
(generous) timeouts was started by a wake-up, not by the sweep.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from scheduler_support import run_state, store_dag_file, trigger, wait_for
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings, load_settings
from tradewind.dag_processing.processor import collect_dags
from tradewind.executors.inline import InlineExecutor
from tradewind.scheduler import loop
from tradewind.scheduler.loop import Scheduler
from tradewind.storage.engine import transaction
from tradewind.storage.tables import JobRow
from tradewind.storage.wakeup import SchedulerWakeup, notify_scheduler

pytestmark = pytest.mark.db

DAG = """
from datetime import datetime
from tradewind import DAG
from tradewind.operators.python import PythonOperator

with DAG("quick", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    PythonOperator(task_id="a", python_callable=lambda: None) >> PythonOperator(
        task_id="b", python_callable=lambda: None
    )
"""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Running:
    """A scheduler running in a thread, stopped and joined by the fixture."""

    def __init__(self, scheduler: Scheduler, thread: threading.Thread) -> None:
        self.scheduler = scheduler
        self.thread = thread


@pytest.fixture
def slow_sweep(settings: Settings) -> Settings:
    return settings.replace("scheduler", sweep_interval=60.0)


@pytest.fixture
def running(
    slow_sweep: Settings, session_factory: sessionmaker[Session], engine: Engine
) -> Iterator[Running]:
    executor = InlineExecutor(slow_sweep, session_factory=session_factory, dag_loader=collect_dags)
    executor.start()
    wakeup = SchedulerWakeup(slow_sweep, engine)
    scheduler = Scheduler(slow_sweep, session_factory, executor, utcnow, wakeup)
    thread = threading.Thread(target=scheduler.run, name="scheduler", daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: _job_started(session_factory)), "the first tick never ran"
        yield Running(scheduler, thread)
    finally:
        scheduler.request_stop()
        thread.join(15)
        executor.end()
        wakeup.close()
    assert not thread.is_alive()
    with transaction(session_factory) as session:
        assert session.scalar(sa.select(JobRow.state)) == "success"


def _job_started(session_factory: sessionmaker[Session]) -> bool:
    with transaction(session_factory) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(JobRow)) == 1


def _succeeded(session_factory: sessionmaker[Session], run_id: str) -> bool:
    return run_state(session_factory, "quick", run_id) == "success"


def _notify_from_a_process(settings: Settings, db_url: str) -> None:
    code = (
        "from tradewind.config import load_settings\n"
        "from tradewind.storage.engine import create_engine_from_settings\n"
        "from tradewind.storage.wakeup import notify_scheduler\n"
        "settings = load_settings()\n"
        "engine = create_engine_from_settings(settings.database)\n"
        "notify_scheduler(settings, engine)\n"
        "engine.dispose()\n"
    )
    env = {
        **os.environ,
        "TRADEWIND_HOME": str(settings.home),
        "TRADEWIND__DATABASE__SQL_ALCHEMY_CONN": db_url,
    }
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)


@pytest.mark.parametrize("notifier", ["thread", "process"])
def test_a_notification_wakes_a_waiting_scheduler(
    running: Running,
    slow_sweep: Settings,
    session_factory: sessionmaker[Session],
    engine: Engine,
    db_url: str,
    dags_folder: Path,
    notifier: str,
) -> None:
    store_dag_file(session_factory, dags_folder, "quick", DAG)
    run_id = trigger(session_factory, "quick", now=utcnow())
    if notifier == "thread":
        sender = threading.Thread(target=notify_scheduler, args=(slow_sweep, engine))
        sender.start()
        sender.join()
    else:
        _notify_from_a_process(slow_sweep, db_url)

    assert wait_for(lambda: _succeeded(session_factory, run_id))


def test_notify_reaches_a_scheduler_on_another_host_through_postgresql(
    running: Running,
    backend: str,
    session_factory: sessionmaker[Session],
    engine: Engine,
    dags_folder: Path,
    tmp_path: Path,
) -> None:
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    assert running.scheduler.wakeup is not None and running.scheduler.wakeup.listening
    store_dag_file(session_factory, dags_folder, "quick", DAG)
    run_id = trigger(session_factory, "quick", now=utcnow())
    # Another home folder: no local socket in common, only the database.
    elsewhere = load_settings(environ={}, home=tmp_path / "other-host")

    notify_scheduler(elsewhere, engine)

    assert wait_for(lambda: _succeeded(session_factory, run_id))


def test_database_errors_are_survived(
    slow_sweep: Settings,
    session_factory: sessionmaker[Session],
    engine: Engine,
    dags_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(loop, "INITIAL_BACKOFF", 0.05)
    monkeypatch.setattr(loop, "MAX_BACKOFF", 0.2)
    outage = threading.Event()
    failures: list[str] = []

    def fail_during_outage(*args: Any, **kwargs: Any) -> None:
        if outage.is_set() and threading.current_thread().name == "scheduler":
            failures.append(str(args[2])[:40])
            raise sa.exc.OperationalError("SELECT 1", {}, ConnectionError("server closed"))

    sa.event.listen(engine, "before_cursor_execute", fail_during_outage)
    executor = InlineExecutor(slow_sweep, session_factory=session_factory, dag_loader=collect_dags)
    executor.start()
    wakeup = SchedulerWakeup(slow_sweep, engine)
    scheduler = Scheduler(slow_sweep, session_factory, executor, utcnow, wakeup)
    thread = threading.Thread(target=scheduler.run, name="scheduler", daemon=True)
    try:
        outage.set()
        thread.start()
        store_dag_file(session_factory, dags_folder, "quick", DAG)
        run_id = trigger(session_factory, "quick", now=utcnow())
        assert wait_for(lambda: len(failures) >= 3), "the loop did not retry"
        assert thread.is_alive()

        outage.clear()

        assert wait_for(lambda: _succeeded(session_factory, run_id))
    finally:
        scheduler.request_stop()
        thread.join(15)
        executor.end()
        wakeup.close()
        sa.event.remove(engine, "before_cursor_execute", fail_during_outage)
    assert not thread.is_alive()
    assert any(
        "tick failed on the database" in record.getMessage() and record.levelno == logging.ERROR
        for record in caplog.records
    )
