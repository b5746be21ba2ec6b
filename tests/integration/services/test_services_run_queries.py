"""Run and task-instance repositories: creation, filters, ordering and pagination."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from services_support import DAY, NOW, RunMaker, build_etl
from sqlalchemy.orm import Session

from tradewind.errors import InvalidInput, NotFound
from tradewind.operators import EmptyOperator
from tradewind.serialization import SerializedDAG, deserialize_dag, serialize_dag
from tradewind.storage.repositories.dag_runs import list_dag_run_records, list_dag_runs
from tradewind.storage.repositories.task_instances import (
    archive_try,
    create_task_instances,
    list_task_instances,
    list_tries,
    require_task_instance,
    tis_of_run,
)

pytestmark = pytest.mark.db


def test_create_task_instances_in_one_insert_and_only_the_missing(
    session: Session, etl: SerializedDAG, make_run: RunMaker
) -> None:
    run = make_run()
    rows = {ti.task_id: ti for ti in tis_of_run(session, "etl", run.run_id)}
    assert sorted(rows) == ["extract", "load", "report", "transform"]
    extract = rows["extract"]
    assert (extract.state, extract.try_number, extract.max_tries, extract.map_index) == (
        None,
        0,
        2,
        -1,
    )
    assert (extract.pool, extract.queue, extract.operator) == (
        "default_pool",
        "default",
        "EmptyOperator",
    )
    # downstream weight rule: extract counts itself and its three descendants.
    assert extract.priority_weight == 4 and rows["report"].max_tries == 0

    assert create_task_instances(session, run, etl) == 0
    dag = build_etl()
    dag.add_task(EmptyOperator(task_id="audit"))
    grown = deserialize_dag(serialize_dag(dag))
    assert create_task_instances(session, run, grown) == 1
    assert len(tis_of_run(session, "etl", run.run_id)) == 5


def test_list_dag_runs_filters_order_and_pages(session: Session, make_run: RunMaker) -> None:
    runs = [
        make_run(day=day, run_state=state)
        for day, state in enumerate(["success", "failed", "running", "success"])
    ]
    ids = [run.run_id for run in runs]

    page = list_dag_runs(session, "etl", order_by="-logical_date", limit=2, offset=1)
    assert page.total_entries == 4 and [r.run_id for r in page.items] == [ids[2], ids[1]]
    assert [r.run_id for r in list_dag_runs(session, "etl", states=["success"]).items] == [
        ids[0],
        ids[3],
    ]
    window = list_dag_runs(
        session, None, logical_date_gte=NOW + DAY, logical_date_lte=NOW + 2 * DAY
    )
    assert [r.run_id for r in window.items] == ids[1:3]
    started = list_dag_runs(session, "etl", start_date_gte=NOW + 2 * DAY)
    assert started.total_entries == 2
    ended = list_dag_runs(session, "etl", end_date_lte=NOW + DAY + timedelta(hours=1))
    assert [r.run_id for r in ended.items] == ids[:2]
    assert list_dag_runs(session, "other").total_entries == 0
    assert list_dag_runs(session, dag_ids=["etl"], run_ids=[ids[0]]).total_entries == 1
    with pytest.raises(InvalidInput, match="Ordering with 'conf'"):
        list_dag_runs(session, "etl", order_by="conf")


@pytest.mark.parametrize(
    ("limit", "offset", "shown", "statements"),
    [
        (10, 0, 4, 1),  # a short page is the whole list: no count(*)
        (2, 3, 1, 1),  # a short page ends the list: offset + its length
        (2, 0, 2, 2),  # a full page: more may follow, counted
        (2, 10, 0, 2),  # past the end: how far is unknown, counted
        (0, 0, 0, 2),
    ],
)
def test_list_dag_run_records_counts_only_when_the_page_cannot_tell(
    session: Session, make_run: RunMaker, limit: int, offset: int, shown: int, statements: int
) -> None:
    for day in range(4):
        make_run(day=day)
    session.flush()
    seen: list[str] = []

    def record(*event: object) -> None:
        seen.append(str(event[2]))

    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        page = list_dag_run_records(session, "etl", limit=limit, offset=offset)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    assert (len(page.items), page.total_entries) == (shown, 4)
    assert len([statement for statement in seen if "dag_run" in statement]) == statements


def test_list_task_instances_filters(session: Session, make_run: RunMaker) -> None:
    first = make_run(day=0, states={"extract": ("success", 1), "transform": ("failed", 1)})
    second = make_run(day=1, states={"extract": ("running", 1)})

    def ids(**filters: object) -> list[tuple[str, str]]:
        page = list_task_instances(session, "etl", **filters)  # type: ignore[arg-type]
        return sorted((ti.run_id, ti.task_id) for ti in page.items)

    assert ids(states=["success", "failed"]) == [
        (first.run_id, "extract"),
        (first.run_id, "transform"),
    ]
    assert len(ids(states=[None])) == 5
    assert ids(run_id=second.run_id, task_ids=["extract", "load"]) == [
        (second.run_id, "extract"),
        (second.run_id, "load"),
    ]
    assert len(ids(logical_date_gte=NOW + DAY)) == 4
    assert len(ids(logical_date_lte=NOW)) == 4
    assert len(ids(duration_gte=30.0)) == 2
    assert ids(start_date_gte=NOW + DAY) == [(second.run_id, "extract")]
    page = list_task_instances(session, None, order_by="-task_id", limit=3, offset=0)
    assert page.total_entries == 8
    assert [ti.task_id for ti in page.items] == ["transform", "transform", "report"]


def test_require_task_instance_and_archive_try(session: Session, make_run: RunMaker) -> None:
    run = make_run(states={"extract": ("running", 2)})
    ti = require_task_instance(session, "etl", run.run_id, "extract")
    assert archive_try(session, ti, state="failed") is True
    assert archive_try(session, ti) is False, "each try is archived once"
    session.commit()
    (archived,) = list_tries(session, "etl", run.run_id, "extract")
    assert (archived.try_number, archived.state, archived.hostname) == (2, "failed", "worker-1")
    assert session.scalar(sa.select(sa.func.count()).select_from(type(archived))) == 1
    with pytest.raises(NotFound, match="Task instance 'x' not found in DAGRun"):
        require_task_instance(session, "etl", run.run_id, "x")
