"""clear_task_instances with each of Airflow's options, on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from services_support import DAY, NOW, RunMaker, ti_of, ti_states
from sqlalchemy.orm import Session

from tradewind.errors import NotFound
from tradewind.serialization import SerializedDAG
from tradewind.services.task_instances import clear_task_instances
from tradewind.storage.repositories.dag_runs import require_dag_run
from tradewind.storage.repositories.task_instances import list_tries
from tradewind.storage.tables import LogRow, TaskInstanceHistoryRow, TaskRescheduleRow

pytestmark = pytest.mark.db

LATER = NOW + timedelta(days=10)
ALL_DONE = {
    "extract": ("success", 1),
    "transform": ("failed", 3),
    "load": ("upstream_failed", 0),
    "report": ("upstream_failed", 0),
}


def _ids(tis: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return sorted((ti.run_id, ti.task_id) for ti in tis)


def test_clear_a_run_resets_tis_keeps_try_numbers_and_archives_tries(
    session: Session, etl: SerializedDAG, make_run: RunMaker
) -> None:
    run = make_run(run_state="failed", states=ALL_DONE)

    cleared = clear_task_instances(
        session, "etl", serialized_dag=etl, run_ids=[run.run_id], now=LATER, owner="carol"
    )
    session.commit()

    assert len(cleared) == 4
    assert set(ti_states(session, run.run_id).values()) == {None}
    transform = ti_of(session, run.run_id, "transform")
    assert transform.try_number == 3, "kept, so earlier tries' logs stay readable"
    assert transform.max_tries == 3 + 2, "Airflow: try_number + task.retries"
    assert transform.start_date is None and transform.end_date is None
    assert transform.duration is None and transform.hostname is None
    assert ti_of(session, run.run_id, "report").max_tries == 0
    # Tries that ran are archived as they ended; never-run instances have no try.
    tries = list_tries(session, "etl", run.run_id, "transform")
    assert [(t.try_number, t.state, t.hostname, t.duration) for t in tries] == [
        (3, "failed", "worker-1", 60.0)
    ]
    assert [t.try_number for t in list_tries(session, "etl", run.run_id, "extract")] == [1]
    assert list_tries(session, "etl", run.run_id, "load") == []
    # The finished run goes back to the queue, as Airflow's dag_run_state=QUEUED.
    stored = require_dag_run(session, "etl", run.run_id)
    assert (stored.state, stored.start_date, stored.end_date, stored.queued_at) == (
        "queued",
        None,
        None,
        LATER,
    )
    assert stored.clear_number == 1
    log = session.scalars(sa.select(LogRow).where(LogRow.event == "clear")).one()
    assert log.owner == "carol"


def test_dry_run_changes_nothing(session: Session, etl: SerializedDAG, make_run: RunMaker) -> None:
    run = make_run(run_state="failed", states=ALL_DONE)
    found = clear_task_instances(
        session, "etl", serialized_dag=etl, run_ids=[run.run_id], dry_run=True, now=LATER
    )
    session.commit()
    assert len(found) == 4
    assert ti_states(session, run.run_id)["transform"] == "failed"
    assert require_dag_run(session, "etl", run.run_id).state == "failed"
    assert session.scalar(sa.select(sa.func.count()).select_from(TaskInstanceHistoryRow)) == 0
    assert (
        session.scalar(
            sa.select(sa.func.count()).select_from(LogRow).where(LogRow.event == "clear")
        )
        == 0
    )


def test_reset_dag_runs_false_leaves_the_run(
    session: Session, etl: SerializedDAG, make_run: RunMaker
) -> None:
    run = make_run(run_state="failed", states=ALL_DONE)
    clear_task_instances(
        session, "etl", serialized_dag=etl, run_ids=[run.run_id], reset_dag_runs=False, now=LATER
    )
    session.commit()
    assert require_dag_run(session, "etl", run.run_id).state == "failed"
    assert ti_states(session, run.run_id)["transform"] is None


def test_running_runs_are_not_requeued_and_running_tis_become_restarting(
    session: Session, etl: SerializedDAG, make_run: RunMaker
) -> None:
    run = make_run(
        run_state="running", states={"extract": ("success", 1), "transform": ("running", 2)}
    )
    clear_task_instances(session, "etl", serialized_dag=etl, run_ids=[run.run_id], now=LATER)
    session.commit()
    transform = ti_of(session, run.run_id, "transform")
    assert (transform.state, transform.try_number, transform.max_tries) == ("restarting", 2, 4)
    assert transform.hostname == "worker-1", "the running try keeps its details"
    # Its unfinished try is archived as failed, ending now (Airflow's record_ti).
    (archived,) = list_tries(session, "etl", run.run_id, "transform")
    assert (archived.state, archived.end_date) == ("failed", LATER)
    stored = require_dag_run(session, "etl", run.run_id)
    assert (stored.state, stored.clear_number) == ("running", 0)


def test_task_ids_with_upstream_and_downstream(
    session: Session, etl: SerializedDAG, make_run: RunMaker
) -> None:
    everything_done = {name: ("success", 1) for name in ("extract", "transform", "load", "report")}
    run = make_run(run_state="success", states=everything_done)

    def clear(**options: object) -> list[str]:
        found = clear_task_instances(
            session,
            "etl",
            serialized_dag=etl,
            run_ids=[run.run_id],
            dry_run=True,
            now=LATER,
            **options,  # type: ignore[arg-type]
        )
        return sorted(ti.task_id for ti in found)

    assert clear(task_ids=["transform"]) == ["transform"]
    assert clear(task_ids=["transform"], include_downstream=True) == [
        "load",
        "report",
        "transform",
    ]
    assert clear(task_ids=["transform"], include_upstream=True) == ["extract", "transform"]
    assert clear(task_ids=["load"], include_upstream=True, include_downstream=True) == [
        "extract",
        "load",
        "transform",
    ]
    assert clear(
        task_ids=["transform"], include_downstream=True, exclude_task_ids={"transform"}
    ) == [
        "load",
        "report",
    ]
    with pytest.raises(NotFound, match="'nope'"):
        clear(task_ids=["nope"])


def test_only_failed_and_only_running_add_up(
    session: Session, etl: SerializedDAG, make_run: RunMaker
) -> None:
    run = make_run(
        states={
            "extract": ("success", 1),
            "transform": ("failed", 1),
            "load": ("upstream_failed", 0),
            "report": ("running", 1),
        }
    )

    def clear(**options: bool) -> list[str]:
        found = clear_task_instances(
            session,
            "etl",
            serialized_dag=etl,
            run_ids=[run.run_id],
            dry_run=True,
            now=LATER,
            **options,
        )
        return sorted(ti.task_id for ti in found)

    assert clear(only_failed=True) == ["load", "transform"]
    assert clear(only_running=True) == ["report"]
    assert clear(only_failed=True, only_running=True) == ["load", "report", "transform"]


def test_date_window_and_include_past_future(
    session: Session, etl: SerializedDAG, make_run: RunMaker
) -> None:
    runs = [make_run(day=day, run_state="success") for day in range(4)]
    ids = [run.run_id for run in runs]

    def cleared_runs(**options: object) -> list[str]:
        found = clear_task_instances(
            session,
            "etl",
            serialized_dag=etl,
            task_ids=["extract"],
            dry_run=True,
            now=LATER,
            **options,  # type: ignore[arg-type]
        )
        return sorted(ti.run_id for ti in found)

    assert cleared_runs() == sorted(ids)
    assert cleared_runs(start_date=NOW + DAY, end_date=NOW + 2 * DAY) == sorted(ids[1:3])
    assert cleared_runs(start_date=NOW + DAY, end_date=NOW + 2 * DAY, include_past=True) == (
        sorted(ids[:3])
    )
    assert cleared_runs(start_date=NOW + DAY, end_date=NOW + 2 * DAY, include_future=True) == (
        sorted(ids[1:])
    )
    assert cleared_runs(run_ids=[ids[1]]) == [ids[1]]
    assert cleared_runs(run_ids=[ids[1]], include_future=True) == sorted(ids[1:])
    assert cleared_runs(run_ids=[ids[2]], include_past=True) == sorted(ids[:3])
    assert cleared_runs(run_ids=[ids[1]], include_past=True, include_future=True) == sorted(ids)
    with pytest.raises(NotFound, match="DAGRun ID: 'missing' not found"):
        cleared_runs(run_ids=["missing"])


def test_only_finished_runs_of_cleared_tis_are_requeued(
    session: Session, etl: SerializedDAG, make_run: RunMaker
) -> None:
    done = make_run(day=0, run_state="success", states={"extract": ("success", 1)})
    untouched = make_run(day=1, run_state="success", states={"extract": ("success", 1)})
    clear_task_instances(session, "etl", serialized_dag=etl, run_ids=[done.run_id], now=LATER)
    session.commit()
    assert require_dag_run(session, "etl", done.run_id).state == "queued"
    assert require_dag_run(session, "etl", untouched.run_id).state == "success"


def test_clearing_twice_archives_each_try_once_and_deletes_reschedules(
    session: Session, etl: SerializedDAG, make_run: RunMaker
) -> None:
    run = make_run(run_state="failed", states={"extract": ("failed", 1)})
    session.add(
        TaskRescheduleRow(
            dag_id="etl",
            run_id=run.run_id,
            task_id="extract",
            map_index=-1,
            try_number=1,
            start_date=NOW,
            end_date=NOW,
            duration=0.0,
            reschedule_date=NOW,
        )
    )
    session.commit()
    for _ in range(2):
        clear_task_instances(
            session,
            "etl",
            serialized_dag=etl,
            run_ids=[run.run_id],
            task_ids=["extract"],
            now=LATER,
        )
        session.commit()
    assert [t.try_number for t in list_tries(session, "etl", run.run_id, "extract")] == [1]
    assert session.scalar(sa.select(sa.func.count()).select_from(TaskRescheduleRow)) == 0


def test_nothing_matching_is_an_empty_list(
    session: Session, etl: SerializedDAG, make_run: RunMaker
) -> None:
    run = make_run(states={"extract": ("success", 1)})
    assert (
        clear_task_instances(
            session, "etl", serialized_dag=etl, run_ids=[run.run_id], only_failed=True, now=LATER
        )
        == []
    )
    assert (
        _ids(clear_task_instances(session, "etl", serialized_dag=etl, run_ids=[], now=LATER)) == []
    )
