"""Tries left ``queued`` with no one to run them: a dead scheduler's (orphans) and
tries queued longer than ``task_queued_timeout``. Each is reset to ``scheduled``,
queued again under the next try number, and runs once; the stale workload of the
reset try can no longer be claimed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from scheduler_support import (
    Clock,
    HoldingExecutor,
    drive,
    store_dag_file,
    ti_states,
    trigger,
)
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings
from tradewind.dag_processing.processor import collect_dags
from tradewind.execution.try_run import DagCache
from tradewind.execution.worker import run_workload
from tradewind.executors.inline import InlineExecutor
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.recovery import EVENT_ORPHAN, EVENT_STUCK, EVENT_STUCK_FAILED
from tradewind.storage.engine import transaction
from tradewind.storage.tables import JobRow, LogRow, TaskInstanceRow

pytestmark = pytest.mark.db


def side_effect_dag(out: Path, retries: int = 0) -> str:
    return f"""
from datetime import datetime
from tradewind import DAG
from tradewind.operators.python import PythonOperator

def append(ti):
    with open({str(out)!r}, "a") as f:
        f.write(f"{{ti.task_id}} {{ti.try_number}}\\n")

with DAG("one", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    PythonOperator(task_id="t", python_callable=append, retries={retries})
"""


@pytest.fixture
def recovering(settings: Settings) -> Settings:
    return settings.replace(
        "scheduler",
        orphaned_tasks_check_interval=0.0,
        task_queued_timeout_check_interval=0.0,
        task_queued_timeout=60.0,
    )


def queue_with_dead_scheduler(
    settings: Settings,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
    out: Path,
) -> tuple[HoldingExecutor, str]:
    """A first scheduler queues the task, then 'dies': its workload never runs."""
    store_dag_file(session_factory, dags_folder, "one", side_effect_dag(out))
    run_id = trigger(session_factory, "one")
    holding = HoldingExecutor()
    first = Scheduler(settings, session_factory, holding, clock)
    first.tick()
    first.tick()
    assert [w.try_number for w in holding.queued] == [1]
    return holding, run_id


def events(session_factory: sessionmaker[Session]) -> list[tuple[str, int | None]]:
    with transaction(session_factory) as session:
        rows = session.execute(
            sa.select(LogRow.event, LogRow.try_number).where(LogRow.owner == "scheduler")
        ).all()
    return [(event, try_number) for event, try_number in rows]


def run_stale(
    workload: object, settings: Settings, session_factory: sessionmaker[Session]
) -> object:
    return run_workload(
        workload,  # type: ignore[arg-type]
        session_factory=session_factory,
        settings=settings,
        dag_cache=DagCache(collect_dags),
    )


def test_a_restarted_scheduler_resets_what_the_dead_one_queued_and_runs_it_once(
    recovering: Settings,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
    inline_executor: InlineExecutor,
    tmp_path: Path,
) -> None:
    out = tmp_path / "side_effect.txt"
    holding, run_id = queue_with_dead_scheduler(
        recovering, session_factory, dags_folder, clock, out
    )
    # Same host, same pid, another job id: the first job is known dead at once.
    second = Scheduler(recovering, session_factory, inline_executor, clock)

    stats = drive(second)

    assert sum(s.tis_reset for s in stats) == 1
    assert ti_states(session_factory, "one") == {(run_id, "t"): ("success", 2)}
    assert out.read_text() == "t 2\n"
    assert events(session_factory) == [(EVENT_ORPHAN, 1)]
    with transaction(session_factory) as session:
        assert session.scalar(sa.select(TaskInstanceRow.max_tries)) == 1  # try 1 not counted
        assert session.scalar(sa.select(JobRow.state).where(JobRow.id != second.job_id)) == (
            "failed"
        )
    # The dead scheduler's workload surfaces late: it cannot claim the reset try.
    assert run_stale(holding.queued[0], recovering, session_factory) is None
    assert out.read_text() == "t 2\n"


def test_a_live_scheduler_elsewhere_keeps_its_queued_tries_until_its_heartbeat_is_stale(
    recovering: Settings,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
    tmp_path: Path,
) -> None:
    _, run_id = queue_with_dead_scheduler(
        recovering, session_factory, dags_folder, clock, tmp_path / "out.txt"
    )
    with transaction(session_factory) as session:  # the first job: another host, alive
        session.execute(sa.update(JobRow).values(hostname="elsewhere", pid=os.getppid()))
    second_executor = HoldingExecutor()
    second = Scheduler(recovering, session_factory, second_executor, clock)

    clock.advance(10)
    assert second.tick().tis_reset == 0
    assert ti_states(session_factory, "one") == {(run_id, "t"): ("queued", 1)}

    clock.advance(recovering.scheduler.scheduler_health_check_threshold)
    assert second.tick().tis_reset == 1
    assert ti_states(session_factory, "one") == {(run_id, "t"): ("queued", 2)}
    assert [w.try_number for w in second_executor.queued] == [2]


def test_a_try_stuck_in_queued_is_rescheduled_then_failed(
    recovering: Settings,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
    tmp_path: Path,
) -> None:
    store_dag_file(session_factory, dags_folder, "one", side_effect_dag(tmp_path / "o.txt"))
    run_id = trigger(session_factory, "one")
    holding = HoldingExecutor()
    scheduler = Scheduler(recovering, session_factory, holding, clock)
    scheduler.tick()
    scheduler.tick()

    clock.advance(30)
    assert scheduler.tick().tis_reset == 0
    for expected_try in (2, 3):
        clock.advance(61)
        assert scheduler.tick().tis_reset == 1
        assert ti_states(session_factory, "one") == {(run_id, "t"): ("queued", expected_try)}
    clock.advance(61)
    assert scheduler.tick().tis_reset == 1

    assert ti_states(session_factory, "one") == {(run_id, "t"): ("failed", 3)}
    assert [w.try_number for w in holding.queued] == [1, 2, 3]
    assert events(session_factory) == [
        (EVENT_STUCK, 1),
        (EVENT_STUCK, 2),
        (EVENT_STUCK_FAILED, 3),
    ]
    for stale in holding.queued:
        assert run_stale(stale, recovering, session_factory) is None
