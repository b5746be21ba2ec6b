"""Uniqueness and cascades the scheduler and the API rely on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.storage.tables import (
    DagRow,
    DagRunRow,
    DagTagRow,
    TaskInstanceHistoryRow,
    TaskInstanceRow,
    TriggerRow,
    XComRow,
)

pytestmark = pytest.mark.db

JAN_1 = datetime(2024, 1, 1, tzinfo=UTC)
JAN_2 = datetime(2024, 1, 2, tzinfo=UTC)


def _run(run_id: str, logical_date: datetime, dag_id: str = "etl") -> DagRunRow:
    return DagRunRow(dag_id=dag_id, run_id=run_id, run_type="scheduled", logical_date=logical_date)


@pytest.fixture
def dag(session: Session) -> DagRow:
    row = DagRow(dag_id="etl", tags=[DagTagRow(name="finance")])
    session.add(row)
    session.add(_run("r1", JAN_1))
    session.commit()
    return row


def test_defaults_of_a_new_dag_run(session: Session, dag: DagRow) -> None:
    run = session.scalar(sa.select(DagRunRow).where(DagRunRow.run_id == "r1"))
    assert run is not None
    assert (run.state, run.clear_number, run.external_trigger) == ("queued", 0, True)
    assert run.updated_at.tzinfo == UTC


def test_duplicate_run_id_per_dag_is_refused(session: Session, dag: DagRow) -> None:
    session.add(_run("r1", JAN_2))
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()


def test_duplicate_logical_date_per_dag_is_refused(session: Session, dag: DagRow) -> None:
    session.add(_run("r2", JAN_1))
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()


def test_same_run_id_in_another_dag_is_fine(session: Session, dag: DagRow) -> None:
    session.add(DagRow(dag_id="other"))
    session.flush()
    session.add(_run("r1", JAN_1, dag_id="other"))
    session.flush()


def test_task_instance_key_is_unique_and_map_index_defaults(session: Session, dag: DagRow) -> None:
    session.add(TaskInstanceRow(dag_id="etl", run_id="r1", task_id="t"))
    session.flush()
    ti = session.scalar(sa.select(TaskInstanceRow))
    assert ti is not None
    assert (ti.map_index, ti.try_number, ti.pool, ti.queue) == (-1, 0, "default_pool", "default")

    session.add(TaskInstanceRow(dag_id="etl", run_id="r1", task_id="t", map_index=-1))
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()


def test_deleting_a_dag_cascades_to_runs_tis_history_and_xcoms(
    session: Session, dag: DagRow
) -> None:
    key = {"dag_id": "etl", "run_id": "r1", "task_id": "t", "map_index": 0}
    session.add(TaskInstanceRow(**key, try_number=2))
    session.flush()
    session.add(TaskInstanceHistoryRow(**key, try_number=1, state="failed"))
    session.add(XComRow(**key, key="return_value", value={"rows": 3}))
    session.commit()

    session.execute(sa.delete(DagRow).where(DagRow.dag_id == "etl"))
    session.commit()

    for table in (DagRunRow, TaskInstanceRow, TaskInstanceHistoryRow, XComRow, DagTagRow):
        assert session.scalar(sa.select(sa.func.count()).select_from(table)) == 0


def test_xcom_key_is_unique_per_task_instance(session: Session, dag: DagRow) -> None:
    key = {"dag_id": "etl", "run_id": "r1", "task_id": "t", "map_index": -1}
    session.add(TaskInstanceRow(**key))
    session.flush()
    session.add(XComRow(**key, key="k", value=1))
    session.flush()
    session.add(XComRow(**key, key="k", value=2))
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()


def test_deleting_a_trigger_leaves_its_task_instance_without_one(
    session: Session, dag: DagRow
) -> None:
    trigger = TriggerRow(classpath="x.Trigger", kwargs={"moment": "2024-01-01T00:00:00+00:00"})
    session.add(trigger)
    session.flush()
    session.add(
        TaskInstanceRow(
            dag_id="etl", run_id="r1", task_id="t", state="deferred", trigger_id=trigger.id
        )
    )
    session.commit()

    session.execute(sa.delete(TriggerRow))
    session.commit()
    session.expire_all()

    ti = session.scalar(sa.select(TaskInstanceRow))
    assert ti is not None and ti.trigger_id is None and ti.state == "deferred"
