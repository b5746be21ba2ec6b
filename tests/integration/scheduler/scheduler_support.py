"""Helpers of the scheduler loop tests: DAG files stored as the processor stores them,
a settable clock, manual runs, and ``drive`` (ticks as ``Scheduler.run`` would)."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tradewind.dag_processing.payload import build_result
from tradewind.dag_processing.store import store_parse_result
from tradewind.executors.base import TaskEvent, TaskWorkload
from tradewind.scheduler.loop import Scheduler, TickStats
from tradewind.storage.engine import transaction
from tradewind.storage.tables import DagRow, DagRunRow, TaskInstanceRow

START = datetime(2024, 1, 4, 12, 0, tzinfo=UTC)


class Clock:
    """A settable clock: ``clock()`` returns ``clock.now``."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def store_dag_file(
    session_factory: sessionmaker[Session],
    folder: Path,
    name: str,
    source: str,
    *,
    paused: bool = False,
    now: datetime = START,
) -> Path:
    """Write a DAG file, parse it in this process and store it as the processor does."""
    path = folder / f"{name}.py"
    path.write_text("# tradewind dag\n" + textwrap.dedent(source))
    result = build_result(path, safe_mode=False)
    assert not result.import_errors, result.import_errors
    with transaction(session_factory) as session:
        store_parse_result(
            session, result, now=now, paused_at_creation=paused, processor_subdir=None
        )
        session.execute(
            sa.update(DagRow)
            .where(DagRow.dag_id.in_([d.dag_id for d in result.dags]))
            .values(is_paused=paused)
        )
    return path


def trigger(session_factory: sessionmaker[Session], dag_id: str, *, now: datetime = START) -> str:
    """Insert a queued manual run, as the trigger service does; return its run_id."""
    run_id = f"manual__{now.isoformat()}"
    with transaction(session_factory) as session:
        session.add(
            DagRunRow(
                dag_id=dag_id,
                run_id=run_id,
                run_type="manual",
                logical_date=now,
                data_interval_start=now,
                data_interval_end=now,
                state="queued",
                queued_at=now,
                external_trigger=True,
            )
        )
    return run_id


def run_state(session_factory: sessionmaker[Session], dag_id: str, run_id: str) -> str | None:
    with transaction(session_factory) as session:
        return session.scalar(
            sa.select(DagRunRow.state).where(DagRunRow.dag_id == dag_id, DagRunRow.run_id == run_id)
        )


def ti_states(
    session_factory: sessionmaker[Session], dag_id: str
) -> dict[tuple[str, str], tuple[str | None, int]]:
    """(run_id, task_id) -> (state, try_number) of every task instance of ``dag_id``."""
    with transaction(session_factory) as session:
        rows = session.execute(
            sa.select(
                TaskInstanceRow.run_id,
                TaskInstanceRow.task_id,
                TaskInstanceRow.state,
                TaskInstanceRow.try_number,
            ).where(TaskInstanceRow.dag_id == dag_id)
        ).all()
    return {(run_id, task_id): (state, tries) for run_id, task_id, state, tries in rows}


def drive(
    scheduler: Scheduler, until: Callable[[], bool] = lambda: False, max_ticks: int = 40
) -> list[TickStats]:
    """Tick and handle events as ``run`` would, until ``until()`` or nothing changes."""
    ticks: list[TickStats] = []
    for _ in range(max_ticks):
        stats = scheduler.tick()
        events = scheduler.handle_events()
        ticks.append(stats)
        if until() or not (stats.changed or events):
            return ticks
    raise AssertionError(f"still changing after {max_ticks} ticks")


class HoldingExecutor:
    """An executor that runs nothing: it keeps what it is given and reports the events
    a test puts in ``events`` (a worker that hangs, or dies)."""

    def __init__(self) -> None:
        self.queued: list[TaskWorkload] = []
        self.events: list[TaskEvent] = []

    def start(self) -> None:
        pass

    def queue(self, workload: TaskWorkload) -> None:
        self.queued.append(workload)

    def open_slots(self) -> int:
        return 32

    def poll_events(self) -> list[TaskEvent]:
        events, self.events = self.events, []
        return events

    def wait_fileno(self) -> int | None:
        return None

    def end(self, timeout: float = 10.0) -> None:
        pass


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll ``predicate`` every 20 ms until it holds (True) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
