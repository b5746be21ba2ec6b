"""trigger_dag_run, set_dag_run_state, delete_dag_run and pause, on every backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from services_support import NOW, RunMaker, ti_of, ti_states
from sqlalchemy.orm import Session

from tradewind.errors import AlreadyExists, InvalidInput, NotFound
from tradewind.serialization import SerializedDAG
from tradewind.services.dag_runs import (
    delete_dag_run,
    find_dag_run,
    require_dag_run_by_id_or_date,
    set_dag_run_state,
    trigger_dag_run,
)
from tradewind.services.dags import pause_dag, unpause_dag
from tradewind.storage.repositories.dag_runs import get_dag_run, require_dag_run
from tradewind.storage.repositories.dags import require_dag
from tradewind.storage.tables import DagRow, DagRunRow, LogRow, TaskInstanceRow

pytestmark = pytest.mark.db


def _count(session: Session, row: type) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(row)) or 0)


def test_trigger_with_defaults(session: Session, etl: SerializedDAG) -> None:
    run = trigger_dag_run(session, "etl", now=NOW, owner="alice")
    session.commit()

    stored = require_dag_run(session, "etl", f"manual__{NOW.isoformat()}")
    assert stored.id == run.id
    assert (stored.state, stored.run_type, stored.external_trigger) == ("queued", "manual", True)
    assert stored.logical_date == NOW and stored.queued_at == NOW
    assert stored.start_date is None and stored.conf == {}
    # @daily: a manual run at noon covers the previous full day, as Airflow infers it.
    assert stored.data_interval_start == datetime(2024, 5, 31, tzinfo=UTC)
    assert stored.data_interval_end == datetime(2024, 6, 1, tzinfo=UTC)
    assert stored.dag_hash is not None
    assert _count(session, TaskInstanceRow) == 0, "task instances are created when it starts"
    log = session.scalars(sa.select(LogRow)).one()
    assert (log.event, log.dag_id, log.run_id, log.owner) == ("trigger", "etl", run.run_id, "alice")
    assert json.loads(log.extra or "{}")["logical_date"] == NOW.isoformat()


def test_trigger_with_run_id_logical_date_conf_and_note(
    session: Session, etl: SerializedDAG
) -> None:
    when = datetime(2024, 3, 1, tzinfo=UTC)
    run = trigger_dag_run(
        session, "etl", now=NOW, run_id="my-run", logical_date=when, conf={"n": 5}, note="hi"
    )
    session.commit()
    assert (run.run_id, run.logical_date, run.conf, run.note) == ("my-run", when, {"n": 5}, "hi")
    assert run.queued_at == NOW


def test_duplicate_run_id_is_refused_in_airflow_wording(
    session: Session, etl: SerializedDAG
) -> None:
    trigger_dag_run(session, "etl", now=NOW, run_id="r1")
    session.commit()
    with pytest.raises(AlreadyExists) as caught:
        trigger_dag_run(session, "etl", now=NOW.replace(hour=13), run_id="r1")
    assert str(caught.value) == "DAGRun with DAG ID: 'etl' and DAGRun ID: 'r1' already exists"


def test_duplicate_logical_date_is_refused_in_airflow_wording(
    session: Session, etl: SerializedDAG
) -> None:
    trigger_dag_run(session, "etl", now=NOW, run_id="r1")
    session.commit()
    with pytest.raises(AlreadyExists) as caught:
        trigger_dag_run(session, "etl", now=NOW, run_id="r2")
    assert str(caught.value) == (
        "DAGRun with DAG ID: 'etl' and DAGRun logical date: "
        "'2024-06-01 12:00:00+00:00' already exists"
    )


def test_unknown_dag_and_dag_without_serialized_form(session: Session) -> None:
    with pytest.raises(NotFound, match="DAG with dag_id: 'nope' not found"):
        trigger_dag_run(session, "nope", now=NOW)
    session.add(DagRow(dag_id="unparsed", is_active=True))
    session.commit()
    with pytest.raises(NotFound, match="no serialized form"):
        trigger_dag_run(session, "unparsed", now=NOW)


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ([1, 2], "must be a JSON object, got list"),
        ("n=1", "must be a JSON object, got str"),
        ({"n": "many"}, "n"),
        ({"n": -1}, "n"),
    ],
)
def test_bad_conf_is_invalid_input(
    session: Session, etl: SerializedDAG, conf: object, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        trigger_dag_run(session, "etl", now=NOW, conf=conf)


def test_naive_logical_date_and_bad_run_type_are_refused(
    session: Session, etl: SerializedDAG
) -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        trigger_dag_run(session, "etl", now=NOW, logical_date=datetime(2024, 1, 1))
    with pytest.raises(InvalidInput, match="Unknown run type"):
        trigger_dag_run(session, "etl", now=NOW, run_type="whenever")


def test_nothing_is_half_created_after_errors(session: Session, etl: SerializedDAG) -> None:
    trigger_dag_run(session, "etl", now=NOW, run_id="r1")
    session.commit()
    for attempt in (
        {"run_id": "r1"},
        {"logical_date": NOW},
        {"conf": {"n": "x"}},
        {"conf": [1]},
    ):
        with pytest.raises((AlreadyExists, InvalidInput)):
            trigger_dag_run(session, "etl", now=NOW.replace(hour=1), **attempt)  # type: ignore[arg-type]
    # The same transaction is still usable and holds only what succeeded.
    trigger_dag_run(session, "etl", now=NOW.replace(hour=2), run_id="r2")
    session.commit()
    assert sorted(session.scalars(sa.select(DagRunRow.run_id))) == ["r1", "r2"]
    assert _count(session, LogRow) == 2


def test_set_run_success_marks_every_unfinished_ti_success(
    session: Session, make_run: RunMaker
) -> None:
    run = make_run(states={"extract": ("success", 1), "transform": ("running", 1)})
    later = NOW.replace(hour=15)

    change = set_dag_run_state(session, "etl", run.run_id, "success", now=later)
    session.commit()

    assert sorted(ti.task_id for ti in change.task_instances) == ["load", "report", "transform"]
    assert set(ti_states(session, run.run_id).values()) == {"success"}
    stored = require_dag_run(session, "etl", run.run_id)
    assert (stored.state, stored.end_date) == ("success", later)
    transform = ti_of(session, run.run_id, "transform")
    assert transform.end_date == later and transform.duration == 3 * 3600
    load = ti_of(session, run.run_id, "load")
    assert load.start_date == later and load.end_date == later
    event = session.scalars(sa.select(LogRow.event).order_by(LogRow.id.desc())).first()
    assert event == "dagrun_success"


def test_set_run_failed_fails_running_and_skips_the_unfinished(
    session: Session, make_run: RunMaker
) -> None:
    run = make_run(
        states={
            "extract": ("success", 1),
            "transform": ("running", 1),
            "load": ("scheduled", 0),
            "report": (None, 0),
        }
    )
    set_dag_run_state(session, "etl", run.run_id, "failed", now=NOW.replace(hour=15))
    session.commit()
    assert ti_states(session, run.run_id) == {
        "extract": "success",
        "transform": "failed",
        "load": "skipped",
        "report": "skipped",
    }
    assert require_dag_run(session, "etl", run.run_id).state == "failed"


def test_set_run_queued_leaves_tis_and_clears_dates(session: Session, make_run: RunMaker) -> None:
    run = make_run(run_state="failed", states={"extract": ("failed", 1)})
    later = NOW.replace(hour=15)
    change = set_dag_run_state(session, "etl", run.run_id, "queued", now=later)
    session.commit()
    assert change.task_instances == []
    stored = require_dag_run(session, "etl", run.run_id)
    assert (stored.state, stored.queued_at, stored.start_date, stored.end_date) == (
        "queued",
        later,
        None,
        None,
    )
    assert ti_states(session, run.run_id)["extract"] == "failed"


def test_set_run_state_dry_run_and_errors(session: Session, make_run: RunMaker) -> None:
    run = make_run(states={"extract": ("running", 1)})
    change = set_dag_run_state(session, "etl", run.run_id, "success", now=NOW, dry_run=True)
    assert len(change.task_instances) == 4
    session.commit()
    assert ti_states(session, run.run_id)["extract"] == "running"
    assert require_dag_run(session, "etl", run.run_id).state == "running"
    with pytest.raises(InvalidInput, match="Invalid DAG run state 'running'"):
        set_dag_run_state(session, "etl", run.run_id, "running", now=NOW)
    with pytest.raises(NotFound, match="DAGRun with DAG ID: 'etl' and DAGRun ID: 'x' not found"):
        set_dag_run_state(session, "etl", "x", "success", now=NOW)


def test_delete_dag_run_cascades_to_task_instances(session: Session, make_run: RunMaker) -> None:
    run = make_run(states={"extract": ("success", 1)})
    delete_dag_run(session, "etl", run.run_id, now=NOW)
    session.commit()
    assert get_dag_run(session, "etl", run.run_id) is None
    assert _count(session, TaskInstanceRow) == 0
    with pytest.raises(NotFound):
        delete_dag_run(session, "etl", run.run_id, now=NOW)


def test_find_dag_run_by_run_id_or_logical_date(session: Session, make_run: RunMaker) -> None:
    run = make_run()
    assert find_dag_run(session, "etl", run.run_id) is not None
    found = find_dag_run(session, "etl", "2024-06-01T12:00:00+00:00")
    assert found is not None and found.run_id == run.run_id
    assert find_dag_run(session, "etl", "2030-01-01") is None
    assert find_dag_run(session, "etl", "not a date") is None
    with pytest.raises(NotFound, match="run_id or logical date of 'nope' not found"):
        require_dag_run_by_id_or_date(session, "etl", "nope")


def test_pause_and_unpause_are_audited(session: Session, etl: SerializedDAG) -> None:
    pause_dag(session, "etl", now=NOW, owner="bob")
    session.commit()
    assert require_dag(session, "etl").is_paused is True
    unpause_dag(session, "etl", now=NOW)
    session.commit()
    assert require_dag(session, "etl").is_paused is False
    events = list(session.scalars(sa.select(LogRow.event).order_by(LogRow.id)))
    assert events == ["pause", "unpause"]
    with pytest.raises(NotFound):
        pause_dag(session, "missing", now=NOW)
