"""Tries whose worker hung (zombies) or died (lost events) are retried or failed."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from scheduler_support import (
    START,
    Clock,
    HoldingExecutor,
    store_dag_file,
    ti_states,
    trigger,
)
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings
from tradewind.executors.base import TaskEvent
from tradewind.scheduler.loop import Scheduler
from tradewind.storage.engine import transaction
from tradewind.storage.tables import TaskInstanceHistoryRow, TaskInstanceRow

pytestmark = pytest.mark.db


def one_task_dag(retries: int) -> str:
    return f"""
from datetime import datetime, timedelta
from tradewind import DAG
from tradewind.operators.python import PythonOperator

with DAG("one", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    PythonOperator(
        task_id="t", python_callable=lambda: None, retries={retries},
        retry_delay=timedelta(minutes=5),
    )
"""


@pytest.fixture
def holding() -> HoldingExecutor:
    return HoldingExecutor()


@pytest.fixture
def held_scheduler(
    settings: Settings,
    session_factory: sessionmaker[Session],
    holding: HoldingExecutor,
    clock: Clock,
) -> Scheduler:
    checking_every_tick = settings.replace("scheduler", zombie_detection_interval=0.0)
    return Scheduler(checking_every_tick, session_factory, holding, clock)


def queue_one(
    scheduler: Scheduler,
    holding: HoldingExecutor,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    retries: int,
) -> str:
    store_dag_file(session_factory, dags_folder, "one", one_task_dag(retries))
    run_id = trigger(session_factory, "one")
    scheduler.tick()  # starts the run
    scheduler.tick()  # queues its task
    assert [w.task_id for w in holding.queued] == ["t"]
    return run_id


def set_running(
    session_factory: sessionmaker[Session], *, heartbeat_age: timedelta, try_number: int = 1
) -> None:
    with transaction(session_factory) as session:
        session.execute(
            sa.update(TaskInstanceRow)
            .where(TaskInstanceRow.try_number == try_number)
            .values(
                state="running",
                start_date=START - heartbeat_age,
                last_heartbeat_at=START - heartbeat_age,
            )
        )


def archived(session_factory: sessionmaker[Session]) -> list[tuple[int, str | None]]:
    with transaction(session_factory) as session:
        rows = session.execute(
            sa.select(TaskInstanceHistoryRow.try_number, TaskInstanceHistoryRow.state)
        ).all()
    return [(tries, state) for tries, state in rows]


@pytest.mark.parametrize(("retries", "expected"), [(1, "up_for_retry"), (0, "failed")])
def test_a_running_try_without_heartbeat_is_a_zombie(
    held_scheduler: Scheduler,
    holding: HoldingExecutor,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    retries: int,
    expected: str,
) -> None:
    run_id = queue_one(held_scheduler, holding, session_factory, dags_folder, retries)
    set_running(session_factory, heartbeat_age=timedelta(hours=1))

    stats = held_scheduler.tick()

    assert stats.zombies == 1
    assert ti_states(session_factory, "one") == {(run_id, "t"): (expected, 1)}
    assert archived(session_factory) == ([(1, "failed")] if retries else [])


def test_a_running_try_with_a_fresh_heartbeat_is_left_alone(
    held_scheduler: Scheduler,
    holding: HoldingExecutor,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
) -> None:
    run_id = queue_one(held_scheduler, holding, session_factory, dags_folder, 1)
    set_running(session_factory, heartbeat_age=timedelta(seconds=10))

    assert held_scheduler.tick().zombies == 0
    assert ti_states(session_factory, "one") == {(run_id, "t"): ("running", 1)}


def test_a_lost_try_is_retried_and_a_stale_loss_changes_nothing(
    held_scheduler: Scheduler,
    holding: HoldingExecutor,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
) -> None:
    run_id = queue_one(held_scheduler, holding, session_factory, dags_folder, 1)
    workload = holding.queued[0]
    set_running(session_factory, heartbeat_age=timedelta(seconds=1))
    stale = dataclasses.replace(workload, try_number=0)
    holding.events += [
        TaskEvent(stale, "failed", lost=True, detail="an older try"),
        TaskEvent(workload, "failed", lost=True, detail="exit code -9"),
    ]

    assert held_scheduler.handle_events() == 2

    assert ti_states(session_factory, "one") == {(run_id, "t"): ("up_for_retry", 1)}
    assert archived(session_factory) == [(1, "failed")]


def test_a_loss_reported_after_the_worker_recorded_its_result_changes_nothing(
    held_scheduler: Scheduler,
    holding: HoldingExecutor,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
) -> None:
    run_id = queue_one(held_scheduler, holding, session_factory, dags_folder, 1)
    with transaction(session_factory) as session:
        session.execute(sa.update(TaskInstanceRow).values(state="success"))
    holding.events.append(TaskEvent(holding.queued[0], "failed", lost=True))

    held_scheduler.handle_events()

    assert ti_states(session_factory, "one") == {(run_id, "t"): ("success", 1)}
