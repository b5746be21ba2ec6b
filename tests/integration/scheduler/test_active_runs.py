"""The scheduler's incremental view of active runs reads what a full read would."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from scheduler_support import store_dag_file, trigger
from sqlalchemy.orm import Session, sessionmaker

from tradewind.scheduler.active_runs import ActiveRuns
from tradewind.scheduler.loop import Scheduler
from tradewind.scheduler.model import RunSnapshot
from tradewind.storage.engine import transaction
from tradewind.storage.tables import TaskInstanceRow

pytestmark = pytest.mark.db

CHAIN = """
from datetime import datetime
from tradewind import DAG
from tradewind.operators.python import PythonOperator

with DAG("chain", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    a = PythonOperator(task_id="a", python_callable=lambda: "a")
    b = PythonOperator(task_id="b", python_callable=lambda: "b")
    a >> b
"""


def _read(session_factory: sessionmaker[Session], view: ActiveRuns) -> list[RunSnapshot]:
    with transaction(session_factory) as session:
        return view.read(session)


def test_every_incremental_read_equals_a_fresh_one(
    scheduler: Scheduler, session_factory: sessionmaker[Session], dags_folder: Path
) -> None:
    store_dag_file(session_factory, dags_folder, "chain", CHAIN)
    trigger(session_factory, "chain")
    view = ActiveRuns()
    seen = []
    for _ in range(10):
        scheduler.tick()
        scheduler.handle_events()
        incremental = _read(session_factory, view)
        assert incremental == _read(session_factory, ActiveRuns())
        seen.append(incremental)
    assert seen[0] and not seen[-1]  # the run was active, then finished


def test_a_change_that_keeps_state_and_try_is_read(
    scheduler: Scheduler, session_factory: sessionmaker[Session], dags_folder: Path
) -> None:
    store_dag_file(session_factory, dags_folder, "chain", CHAIN)
    trigger(session_factory, "chain")
    scheduler.tick()  # starts the run: its task instances exist, state none
    view = ActiveRuns()
    _read(session_factory, view)
    with transaction(session_factory) as session:
        session.execute(sa.update(TaskInstanceRow).values(priority_weight=7))

    (run,) = _read(session_factory, view)

    assert {ti.priority_weight for ti in run.task_instances} == {7}
