"""Data-aware scheduling end to end: a task with outlets succeeds through the scheduler
(real worker code over the InlineExecutor, frozen clock), and the DAGs scheduled on its
datasets get ``dataset_triggered`` runs when their conditions hold."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from scheduler_support import (
    START,
    Clock,
    HoldingExecutor,
    drive,
    run_state,
    store_dag_file,
    trigger,
)
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings
from tradewind.scheduler.loop import Scheduler
from tradewind.services.datasets import create_dataset_event
from tradewind.storage.engine import transaction
from tradewind.storage.tables import (
    DagRow,
    DagRunRow,
    DatasetDagRunQueueRow,
    DatasetEventRow,
    DatasetRow,
    dagrun_dataset_event,
)

pytestmark = pytest.mark.db

HEADER = """
from datetime import datetime
from tradewind import DAG, Dataset
from tradewind.operators.empty import EmptyOperator
START = datetime(2024, 1, 1)
A, B = Dataset("s3://x"), Dataset("s3://bucket/y.csv")
"""


def _runs(session_factory: sessionmaker[Session], dag_id: str) -> list[DagRunRow]:
    with transaction(session_factory) as session:
        runs = session.scalars(
            sa.select(DagRunRow).where(DagRunRow.dag_id == dag_id).order_by(DagRunRow.id)
        ).all()
        session.expunge_all()
    return list(runs)


def _queued(session_factory: sessionmaker[Session], dag_id: str) -> list[str]:
    with transaction(session_factory) as session:
        return list(
            session.scalars(
                sa.select(DatasetRow.uri)
                .join(DatasetDagRunQueueRow, DatasetDagRunQueueRow.dataset_id == DatasetRow.id)
                .where(DatasetDagRunQueueRow.target_dag_id == dag_id)
                .order_by(DatasetRow.uri)
            )
        )


def _linked_events(session_factory: sessionmaker[Session], run: DagRunRow) -> list[int]:
    with transaction(session_factory) as session:
        return list(
            session.scalars(
                sa.select(dagrun_dataset_event.c.event_id)
                .where(dagrun_dataset_event.c.dag_run_id == run.id)
                .order_by(dagrun_dataset_event.c.event_id)
            )
        )


def _update(session_factory: sessionmaker[Session], uri: str, clock: Clock) -> int:
    """A dataset update through the service behind ``POST /datasets/events``."""
    with transaction(session_factory, sqlite_begin="IMMEDIATE") as session:
        return create_dataset_event(session, uri, extra=None, now=clock()).id


def _consumer(folder: Path, factory: sessionmaker[Session], schedule: str, **kw: str) -> None:
    options = "".join(f", {name}={value}" for name, value in kw.items())
    store_dag_file(
        factory,
        folder,
        "consumer",
        HEADER
        + f"""
with DAG("consumer", schedule={schedule}, start_date=START{options}):
    EmptyOperator(task_id="load")
""",
    )


def test_a_producer_task_triggers_the_consumer(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
) -> None:
    store_dag_file(
        session_factory,
        dags_folder,
        "producer",
        HEADER
        + """
with DAG("producer", schedule=None, start_date=START):
    EmptyOperator(task_id="extract", outlets=[A]) >> EmptyOperator(task_id="report")
""",
    )
    _consumer(dags_folder, session_factory, "[A]")
    producer_run = trigger(session_factory, "producer")

    drive(scheduler, lambda: run_state(session_factory, "producer", producer_run) == "success")
    drive(scheduler)

    with transaction(session_factory) as session:
        (event,) = session.scalars(sa.select(DatasetEventRow)).all()
        source = (event.source_dag_id, event.source_task_id, event.source_run_id)
        source_map_index, event_id, event_time = event.source_map_index, event.id, event.timestamp
    assert source == ("producer", "extract", producer_run) and source_map_index == -1
    assert event_time == START
    (run,) = _runs(session_factory, "consumer")
    assert run.run_type == "dataset_triggered"
    assert run.run_id == f"dataset_triggered__{START.isoformat()}"
    assert run.logical_date == START and run.external_trigger is False
    # The producing run's data interval (a manual run's: the instant it was triggered).
    assert (run.data_interval_start, run.data_interval_end) == (START, START)
    assert run.state == "success"
    assert _linked_events(session_factory, run) == [event_id]
    assert _queued(session_factory, "consumer") == []


def test_a_list_schedule_waits_for_every_dataset(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
) -> None:
    _consumer(dags_folder, session_factory, "[A, B]")
    first = _update(session_factory, "s3://x", clock)
    drive(scheduler)
    assert _runs(session_factory, "consumer") == []
    assert _queued(session_factory, "consumer") == ["s3://x"]

    clock.advance(60)
    again = _update(session_factory, "s3://x", clock)  # the older queue entry stays
    clock.advance(60)
    second = _update(session_factory, "s3://bucket/y.csv", clock)
    drive(scheduler)

    (run,) = _runs(session_factory, "consumer")
    assert run.logical_date == clock.now
    assert run.data_interval_start == START and run.data_interval_end == clock.now
    assert run.state == "success"
    assert _linked_events(session_factory, run) == sorted([first, again, second])
    assert _queued(session_factory, "consumer") == []

    clock.advance(60)
    third = _update(session_factory, "s3://x", clock)
    clock.advance(60)
    fourth = _update(session_factory, "s3://bucket/y.csv", clock)
    drive(scheduler)
    later = _runs(session_factory, "consumer")[1]
    assert _linked_events(session_factory, later) == [third, fourth]


def test_an_any_condition_runs_on_either_dataset(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
) -> None:
    _consumer(dags_folder, session_factory, "(A | B)")
    _update(session_factory, "s3://bucket/y.csv", clock)
    drive(scheduler)
    (run,) = _runs(session_factory, "consumer")
    assert run.run_type == "dataset_triggered" and run.state == "success"


def test_same_instant_updates_get_distinct_runs(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
) -> None:
    """A frozen clock gives two updates the same time; the second run moves on by a
    microsecond rather than colliding with the first (unique logical date)."""
    _consumer(dags_folder, session_factory, "[A]")
    first = _update(session_factory, "s3://x", clock)
    drive(scheduler)
    second = _update(session_factory, "s3://x", clock)
    drive(scheduler)
    runs = _runs(session_factory, "consumer")
    assert [run.logical_date - START for run in runs] == [timedelta(0), timedelta(microseconds=1)]
    assert [_linked_events(session_factory, run) for run in runs] == [[first], [second]]


def test_a_paused_consumer_keeps_its_queue_until_unpaused(
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
) -> None:
    _consumer(dags_folder, session_factory, "[A, B]")
    _update(session_factory, "s3://x", clock)
    _set_paused(session_factory, True)
    clock.advance(60)
    _update(session_factory, "s3://bucket/y.csv", clock)  # not queued while paused
    drive(scheduler)
    assert _runs(session_factory, "consumer") == []
    assert _queued(session_factory, "consumer") == ["s3://x"]

    _set_paused(session_factory, False)
    drive(scheduler)
    assert _runs(session_factory, "consumer") == []
    clock.advance(60)
    _update(session_factory, "s3://bucket/y.csv", clock)
    drive(scheduler)
    assert len(_runs(session_factory, "consumer")) == 1


def test_max_active_runs_holds_the_queue(
    settings: Settings,
    session_factory: sessionmaker[Session],
    dags_folder: Path,
    clock: Clock,
) -> None:
    executor = HoldingExecutor()  # the first run's task never finishes
    scheduler = Scheduler(settings, session_factory, executor, clock)  # type: ignore[arg-type]
    _consumer(dags_folder, session_factory, "[A]", max_active_runs="1")
    _update(session_factory, "s3://x", clock)
    drive(scheduler)
    clock.advance(60)
    _update(session_factory, "s3://x", clock)
    drive(scheduler)

    (run,) = _runs(session_factory, "consumer")
    assert run.state == "running"
    assert _queued(session_factory, "consumer") == ["s3://x"]


def _set_paused(session_factory: sessionmaker[Session], paused: bool) -> None:
    with transaction(session_factory) as session:
        session.execute(
            sa.update(DagRow).where(DagRow.dag_id == "consumer").values(is_paused=paused)
        )
