"""Planner: backfill runs run even when their DAG is paused, and start in queue order."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from planner_support import START, dag_snapshot, run_of, serialized, snapshot

from tradewind.operators import EmptyOperator
from tradewind.scheduler.model import RunSnapshot
from tradewind.scheduler.planner import plan
from tradewind.sdk import DAG
from tradewind.serialization import SerializedDAG


def chain() -> SerializedDAG:
    with DAG("chain", schedule="@daily", start_date=START) as dag:
        EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
    return serialized(dag)


def day(n: int) -> datetime:
    return datetime(2024, 1, n, tzinfo=UTC)


def backfill(run: RunSnapshot, queued_at: datetime) -> RunSnapshot:
    return replace(
        run,
        run_type="backfill",
        run_id=f"backfill__{run.logical_date.isoformat()}",
        queued_at=queued_at,
    )


def test_a_paused_dag_starts_its_backfill_runs_only() -> None:
    dag = chain()
    manual = replace(run_of(dag, state="queued", id=1, logical_date=day(1)), run_type="manual")
    filled = backfill(run_of(dag, state="queued", id=2, logical_date=day(2)), day(9))
    started = plan(snapshot([dag_snapshot(dag, is_paused=True)], [manual, filled])).runs_to_start
    assert [t.run_id for t in started] == [2]


def test_a_paused_dag_runs_the_tasks_of_its_backfill_runs_only() -> None:
    dag = chain()
    scheduled = run_of(dag, id=1, logical_date=day(1))
    filled = backfill(run_of(dag, id=2, logical_date=day(2)), day(9))
    decisions = plan(snapshot([dag_snapshot(dag, is_paused=True)], [scheduled, filled]))
    queued = {t.ti_id for t in decisions.tis_to_queue}
    assert queued == {filled.task_instances[0].id}  # "a" of the backfill run, nothing else


def test_backfill_runs_start_after_the_others_in_the_order_they_were_queued() -> None:
    dag = chain()
    # A backwards backfill queued day 3 first, then day 2, then day 1.
    runs = [
        backfill(run_of(dag, state="queued", id=10 + n, logical_date=day(n)), day(9))
        for n in (1, 2, 3)
    ]
    runs = [
        replace(run, queued_at=day(9) + timedelta(microseconds=3 - n))
        for n, run in enumerate(runs, start=1)
    ]
    manual = replace(run_of(dag, state="queued", id=1, logical_date=day(5)), run_type="manual")
    limited = dag_snapshot(dag, max_active_runs=3)
    started = plan(snapshot([limited], [*runs, manual])).runs_to_start
    assert [t.run_id for t in started] == [1, 13, 12]
