"""``dags backfill`` end to end, on every backend: the runs it queues for a range, what it
does with runs that exist, its errors, and the runs executed by a real scheduler (the
InlineExecutor, ticked in this process, or running in a thread for the blocking wait).

The DAGs start paused (``dags_are_paused_at_creation``), so the scheduler creates no
scheduled runs of its own, and every run that executes shows that backfill runs of a
paused DAG run.
"""

from __future__ import annotations

import json
import os
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session, sessionmaker

from tradewind.cli import run_display
from tradewind.cli.main import cli
from tradewind.config import Settings
from tradewind.dag_processing.processor import collect_dags
from tradewind.executors.inline import InlineExecutor
from tradewind.scheduler.loop import Scheduler
from tradewind.storage.engine import transaction
from tradewind.storage.tables import DagRunRow, LogRow, TaskInstanceRow

pytestmark = pytest.mark.db

DAGS = """
    from datetime import datetime
    from pathlib import Path

    from tradewind import DAG
    from tradewind.operators import EmptyOperator
    from tradewind.operators.python import PythonOperator

    MARKER = Path(__file__).with_name("fail-{{ ds }}")


    def maybe_fail(ds):
        if Path(__file__).with_name(f"fail-{ds}").exists():
            raise RuntimeError(f"asked to fail on {ds}")


    with DAG("daily", schedule="@daily", start_date=datetime(2024, 1, 1)):
        EmptyOperator(task_id="extract") >> PythonOperator(
            task_id="load", python_callable=maybe_fail
        )

    with DAG("hourly", schedule="@hourly", start_date=datetime(2024, 1, 1)):
        EmptyOperator(task_id="tick")

    with DAG("manual_only", schedule=None, start_date=datetime(2024, 1, 1)):
        EmptyOperator(task_id="t")

    with DAG("past", schedule="@daily", start_date=datetime(2024, 1, 1)):
        EmptyOperator(task_id="t", depends_on_past=True)
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("TRADEWIND__") or name == "TRADEWIND_DEBUG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path))
    monkeypatch.setattr(run_display, "WAIT_POLL_INTERVAL", 0.05)


@pytest.fixture
def dags_folder(settings: Settings) -> Path:
    folder = Path(settings.core.dags_folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fill.py").write_text(textwrap.dedent(DAGS), encoding="utf-8")
    result = invoke(settings, "dags", "list", "-o", "json")
    assert result.exit_code == 0, result.output
    assert all(row["is_paused"] for row in json.loads(result.stdout))
    return folder


@pytest.fixture
def scheduler(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[Scheduler]:
    executor = InlineExecutor(settings, session_factory=session_factory, dag_loader=collect_dags)
    executor.start()
    yield Scheduler(settings, session_factory, executor, lambda: datetime.now(UTC))
    executor.end()


def invoke(settings: Settings, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), obj=settings, input=input)


def backfill(settings: Settings, *args: str, input: str | None = None) -> Result:
    return invoke(settings, "dags", "backfill", *args, input=input)


def queued(settings: Settings, dag_id: str, *args: str) -> list[dict[str, object]]:
    """Run a non-blocking backfill; the rows it printed."""
    result = backfill(settings, dag_id, "--no-wait", "-o", "json", *args)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def runs(session_factory: sessionmaker[Session], dag_id: str) -> dict[str, tuple[str, str]]:
    """run_id -> (run_type, state) of every run of ``dag_id``."""
    with transaction(session_factory) as session:
        rows = session.execute(
            sa.select(DagRunRow.run_id, DagRunRow.run_type, DagRunRow.state).where(
                DagRunRow.dag_id == dag_id
            )
        ).all()
    return {run_id: (run_type, state) for run_id, run_type, state in rows}


def drive(scheduler: Scheduler, session_factory: sessionmaker[Session], dag_id: str) -> None:
    """Tick until every run of ``dag_id`` is finished."""
    for _ in range(200):
        scheduler.tick()
        scheduler.handle_events()
        states = {state for _type, state in runs(session_factory, dag_id).values()}
        if states <= {"success", "failed"}:
            return
    raise AssertionError(f"runs of {dag_id} still unfinished: {runs(session_factory, dag_id)}")


def backfill_id(day: int) -> str:
    return f"backfill__2024-01-{day:02d}T00:00:00+00:00"


@pytest.mark.usefixtures("dags_folder")
def test_daily_and_hourly_ranges_queue_one_backfill_run_per_date(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    rows = queued(settings, "daily", "-s", "2024-01-02", "-e", "2024-01-04")
    assert [(r["logical_date"], r["run_id"], r["action"], r["state"]) for r in rows] == [
        (f"2024-01-0{d}T00:00:00+00:00", backfill_id(d), "create", "queued") for d in (2, 3, 4)
    ]
    assert rows[0]["data_interval_end"] == "2024-01-03T00:00:00+00:00"
    assert set(runs(session_factory, "daily").values()) == {("backfill", "queued")}

    # An hourly schedule, a range that is not on the hour: 10:00 .. 13:00 inclusive.
    rows = queued(settings, "hourly", "-s", "2024-01-02T09:30:00Z", "-e", "2024-01-02T13:00:00Z")
    assert [r["logical_date"] for r in rows] == [
        f"2024-01-02T{h}:00:00+00:00" for h in ("10", "11", "12", "13")
    ]
    # One date alone is both ends (Airflow's rule).
    assert [r["run_id"] for r in queued(settings, "daily", "-e", "2024-01-09")] == [backfill_id(9)]
    events = session.scalars(sa.select(LogRow.extra).where(LogRow.event == "backfill")).all()
    assert len(events) == 3 and json.loads(str(events[0]))["create"] == 3


@pytest.mark.usefixtures("dags_folder")
def test_existing_runs_are_skipped(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    queued(settings, "daily", "-s", "2024-01-02", "-e", "2024-01-03")
    trigger = invoke(settings, "dags", "trigger", "daily", "-e", "2024-01-04", "-r", "mine")
    assert trigger.exit_code == 0, trigger.output
    rows = queued(settings, "daily", "-s", "2024-01-01", "-e", "2024-01-04")
    assert [(r["run_id"], r["action"]) for r in rows] == [
        (backfill_id(1), "create"),
        (backfill_id(2), "skip"),
        (backfill_id(3), "skip"),
        ("mine", "skip"),
    ]
    assert len(runs(session_factory, "daily")) == 4


@pytest.mark.usefixtures("dags_folder")
def test_dry_run_prints_the_dates_and_changes_nothing(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    args = ("daily", "-s", "2024-01-02", "-e", "2024-01-03", "-n", "-o", "plain")
    result = backfill(settings, *args)
    assert result.exit_code == 0, result.output
    assert "Dry run of DAG daily from 2024-01-02T00:00:00+00:00" in result.stdout
    assert backfill_id(2) in result.stdout and backfill_id(3) in result.stdout
    assert runs(session_factory, "daily") == {}


@pytest.mark.usefixtures("dags_folder")
def test_errors(settings: Settings, session_factory: sessionmaker[Session]) -> None:
    for args, message in (
        (["manual_only", "-s", "2024-01-01"], "Error: DAG 'manual_only' has no schedule"),
        (
            ["daily", "-s", "2024-01-05", "-e", "2024-01-01"],
            "Error: Backfill end date 2024-01-01T00:00:00+00:00 is before its start date",
        ),
        (["daily"], "Error: Provide a start date (-s) and/or an end date (-e)"),
        (["daily", "-s", "soon"], "Error: Invalid logical date 'soon'"),
        (["daily", "-s", "2024-01-01", "-c", "[]"], "Error: --conf must be a JSON object"),
        (
            ["past", "-s", "2024-01-01", "-e", "2024-01-02", "-B"],
            "Error: You cannot backfill backwards because one or more tasks depend_on_past: t",
        ),
        (["missing", "-s", "2024-01-01"], "Error: DAG with dag_id: 'missing' not found"),
    ):
        result = backfill(settings, *args, "--no-wait")
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(message), result.stderr
    assert runs(session_factory, "daily") == {} and runs(session_factory, "past") == {}


@pytest.mark.usefixtures("dags_folder")
def test_runs_execute_to_success_backwards_with_conf(
    settings: Settings, session_factory: sessionmaker[Session], scheduler: Scheduler
) -> None:
    rows = queued(settings, "daily", "-s", "2024-01-01", "-e", "2024-01-03", "-B", "-c", '{"x": 1}')
    assert [r["run_id"] for r in rows] == [backfill_id(3), backfill_id(2), backfill_id(1)]
    drive(scheduler, session_factory, "daily")
    assert set(runs(session_factory, "daily").values()) == {("backfill", "success")}
    with transaction(session_factory) as session:
        started = session.execute(
            sa.select(DagRunRow.run_id, DagRunRow.conf).order_by(DagRunRow.start_date)
        ).all()
        tis = session.scalars(sa.select(TaskInstanceRow.state)).all()
    assert [run_id for run_id, _ in started] == [backfill_id(3), backfill_id(2), backfill_id(1)]
    assert all(conf == {"x": 1} for _, conf in started)
    assert tis == ["success"] * 6


@pytest.mark.usefixtures("dags_folder")
def test_rerun_failed_tasks_and_reset_dagruns(
    settings: Settings,
    session_factory: sessionmaker[Session],
    scheduler: Scheduler,
    dags_folder: Path,
) -> None:
    marker = dags_folder / "fail-2024-01-02"
    marker.touch()
    queued(settings, "daily", "-s", "2024-01-01", "-e", "2024-01-02")
    drive(scheduler, session_factory, "daily")
    assert runs(session_factory, "daily") == {
        backfill_id(1): ("backfill", "success"),
        backfill_id(2): ("backfill", "failed"),
    }
    marker.unlink()

    rows = queued(settings, "daily", "-s", "2024-01-01", "-e", "2024-01-02", "--rerun-failed-tasks")
    assert [(r["action"], r["cleared"], r["state"]) for r in rows] == [
        ("rerun_failed", 0, "success"),
        ("rerun_failed", 1, "queued"),
    ]
    drive(scheduler, session_factory, "daily")
    assert set(runs(session_factory, "daily").values()) == {("backfill", "success")}

    # --reset-dagruns asks first; "n" changes nothing.
    args = ("daily", "-s", "2024-01-01", "-e", "2024-01-02", "--reset-dagruns", "--no-wait")
    result = backfill(settings, *args, input="n\n")
    assert result.exit_code == 0 and "Cancelled, nothing was done." in result.stdout
    assert set(runs(session_factory, "daily").values()) == {("backfill", "success")}
    rows = queued(settings, *args[:-1], "-y")
    assert [(r["action"], r["cleared"], r["state"]) for r in rows] == [("reset", 2, "queued")] * 2
    drive(scheduler, session_factory, "daily")
    with transaction(session_factory) as session:
        tries = session.execute(
            sa.select(TaskInstanceRow.run_id, TaskInstanceRow.task_id, TaskInstanceRow.try_number)
        ).all()
    assert {(run_id, task, n) for run_id, task, n in tries} == {
        (backfill_id(1), "extract", 2),
        (backfill_id(1), "load", 2),
        (backfill_id(2), "extract", 2),
        (backfill_id(2), "load", 3),
    }
    assert set(runs(session_factory, "daily").values()) == {("backfill", "success")}


@pytest.mark.usefixtures("dags_folder")
def test_blocking_backfill_follows_the_runs_and_exits_1_on_a_failure(
    settings: Settings, session_factory: sessionmaker[Session], dags_folder: Path
) -> None:
    fast = settings.replace("scheduler", sweep_interval=0.05)
    executor = InlineExecutor(fast, session_factory=session_factory, dag_loader=collect_dags)
    executor.start()
    scheduler = Scheduler(fast, session_factory, executor, lambda: datetime.now(UTC))
    thread = threading.Thread(target=scheduler.run, name="scheduler", daemon=True)
    thread.start()
    try:
        result = backfill(settings, "daily", "-s", "2024-01-01", "-e", "2024-01-02")
        assert result.exit_code == 0, result.output
        assert "Backfill of daily finished: 2 run(s) succeeded, 0 failed" in result.stderr
        (dags_folder / "fail-2024-01-03").touch()
        result = backfill(settings, "daily", "-s", "2024-01-03")
        assert result.exit_code == 1, result.output
        assert "0 run(s) succeeded, 1 failed" in result.stderr
        assert f"failed: {backfill_id(3)}" in result.stderr
    finally:
        scheduler.request_stop()
        thread.join(15)
        executor.end()
