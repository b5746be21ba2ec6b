"""set_task_instance_state and states_for_dag_run, on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from services_support import NOW, RunMaker, ti_of, ti_states
from sqlalchemy.orm import Session

from tradewind.errors import InvalidInput, NotFound
from tradewind.serialization import SerializedDAG
from tradewind.services.task_instances import set_task_instance_state, states_for_dag_run
from tradewind.storage.repositories.dag_runs import require_dag_run

pytestmark = pytest.mark.db

LATER = NOW + timedelta(days=10)


def test_mark_one_task_success_clears_its_failed_downstream(
    session: Session, make_run: RunMaker
) -> None:
    run = make_run(
        run_state="failed",
        states={
            "extract": ("success", 1),
            "transform": ("failed", 1),
            "load": ("upstream_failed", 0),
            "report": ("upstream_failed", 0),
        },
    )
    altered = set_task_instance_state(
        session, "etl", run.run_id, "transform", state="success", now=LATER
    )
    session.commit()

    assert [ti.task_id for ti in altered] == ["transform"]
    # Airflow's DAG.set_task_instance_state: failed/upstream_failed downstream resumes.
    assert ti_states(session, run.run_id) == {
        "extract": "success",
        "transform": "success",
        "load": None,
        "report": None,
    }
    transform = ti_of(session, run.run_id, "transform")
    assert transform.end_date == NOW + timedelta(minutes=1), "an existing end date is kept"
    assert require_dag_run(session, "etl", run.run_id).state == "queued"


def test_mark_with_upstream_and_downstream(session: Session, make_run: RunMaker) -> None:
    run = make_run(states={"extract": ("success", 1), "transform": ("running", 1)})
    altered = set_task_instance_state(
        session,
        "etl",
        run.run_id,
        "transform",
        state="skipped",
        include_upstream=True,
        include_downstream=True,
        now=LATER,
    )
    session.commit()
    # Upstream tasks are set too, finished or not: Airflow sets every state != the new one.
    assert sorted(ti.task_id for ti in altered) == ["extract", "load", "report", "transform"]
    assert set(ti_states(session, run.run_id).values()) == {"skipped"}
    load = ti_of(session, run.run_id, "load")
    assert (load.start_date, load.end_date, load.duration) == (LATER, LATER, 0.0)


def test_mark_failed_downstream_only_and_dry_run(session: Session, make_run: RunMaker) -> None:
    run = make_run(states={"extract": ("running", 1)})
    preview = set_task_instance_state(
        session,
        "etl",
        run.run_id,
        "transform",
        state="failed",
        include_downstream=True,
        dry_run=True,
        now=LATER,
    )
    assert sorted(ti.task_id for ti in preview) == ["load", "report", "transform"]
    session.commit()
    assert ti_states(session, run.run_id)["transform"] is None
    set_task_instance_state(session, "etl", run.run_id, "extract", state="failed", now=LATER)
    session.commit()
    assert ti_states(session, run.run_id)["extract"] == "failed"
    assert ti_states(session, run.run_id)["transform"] is None


def test_mark_with_past_and_future(session: Session, make_run: RunMaker) -> None:
    runs = [make_run(day=day, run_state="success") for day in range(3)]
    middle = runs[1].run_id

    def marked(**options: bool) -> list[str]:
        found = set_task_instance_state(
            session,
            "etl",
            middle,
            "extract",
            state="success",
            dry_run=True,
            now=LATER,
            **options,
        )
        return sorted(ti.run_id for ti in found)

    assert marked() == [middle]
    assert marked(include_past=True) == sorted([runs[0].run_id, middle])
    assert marked(include_future=True) == sorted([middle, runs[2].run_id])
    assert marked(include_past=True, include_future=True) == sorted(r.run_id for r in runs)


def test_errors(session: Session, etl: SerializedDAG, make_run: RunMaker) -> None:
    run = make_run()
    with pytest.raises(InvalidInput, match="Cannot set a task instance to 'running'"):
        set_task_instance_state(session, "etl", run.run_id, "extract", state="running", now=NOW)
    with pytest.raises(NotFound, match="DAGRun ID: 'nope' not found"):
        set_task_instance_state(session, "etl", "nope", "extract", state="success", now=NOW)
    with pytest.raises(NotFound, match="'ghost'"):
        set_task_instance_state(session, "etl", run.run_id, "ghost", state="success", now=NOW)
    with pytest.raises(NotFound, match="map index 3"):
        set_task_instance_state(session, "etl", run.run_id, "extract", 3, state="success", now=NOW)


def test_states_for_dag_run(session: Session, make_run: RunMaker) -> None:
    run = make_run(states={"extract": ("success", 1)})
    rows = states_for_dag_run(session, "etl", run.run_id)
    assert [(ti.task_id, ti.state) for ti in rows] == [
        ("extract", "success"),
        ("load", None),
        ("report", None),
        ("transform", None),
    ]
    with pytest.raises(NotFound):
        states_for_dag_run(session, "etl", "missing")
