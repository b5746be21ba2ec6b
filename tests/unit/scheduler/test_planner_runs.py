"""Planner: creating scheduled runs and starting queued ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from planner_support import NOW, START, dag_snapshot, run_of, serialized, snapshot

from tradewind.operators import EmptyOperator
from tradewind.scheduler.model import DagSnapshot
from tradewind.scheduler.planner import plan
from tradewind.sdk import DAG
from tradewind.serialization import SerializedDAG

JAN5_NOON = datetime(2024, 1, 5, 12, tzinfo=UTC)


def daily(dag_id: str = "daily", **kwargs: object) -> SerializedDAG:
    with DAG(dag_id, schedule="@daily", start_date=START, **kwargs) as dag:  # type: ignore[arg-type]
        EmptyOperator(task_id="t")
    return serialized(dag)


def day(n: int) -> datetime:
    return datetime(2024, 1, n, tzinfo=UTC)


def test_cron_catchup_creates_every_missed_run_chaining_next_fields() -> None:
    dag = dag_snapshot(daily(), due=True, now=JAN5_NOON)
    decisions = plan(snapshot([dag], now=JAN5_NOON))
    created = decisions.runs_to_create
    assert [r.logical_date for r in created] == [day(1), day(2), day(3), day(4)]
    assert created[0].run_id == "scheduled__2024-01-01T00:00:00+00:00"
    assert created[0].run_type == "scheduled"
    assert (created[0].data_interval_start, created[0].data_interval_end) == (day(1), day(2))
    # Each run carries the DAG's next-run fields after it.
    assert created[0].next_dagrun == day(2)
    assert created[-1].next_dagrun == day(5)
    assert created[-1].next_dagrun_data_interval == (day(5), day(6))
    assert created[-1].next_dagrun_create_after == day(6)
    assert decisions.problems == ()


def test_cron_without_catchup_creates_only_the_latest_run() -> None:
    dag = dag_snapshot(daily(catchup=False), catchup=False, due=True, now=JAN5_NOON)
    created = plan(snapshot([dag], now=JAN5_NOON)).runs_to_create
    assert [r.logical_date for r in created] == [day(4)]
    assert created[0].next_dagrun_create_after == day(6)


def test_catchup_false_after_a_pause_skips_to_the_latest_interval() -> None:
    # The DAG's stored next run is old (it was paused); the run for it is created,
    # and the next one jumps to the latest interval rather than catching up.
    stale = dag_snapshot(daily(catchup=False), catchup=False, due=True, now=day(2))
    decisions = plan(snapshot([stale], now=JAN5_NOON))
    assert [r.logical_date for r in decisions.runs_to_create] == [day(1), day(4)]


def test_timedelta_schedule_with_catchup() -> None:
    with DAG("every6h", schedule=timedelta(hours=6), start_date=START) as sdk_dag:
        EmptyOperator(task_id="t")
    now = datetime(2024, 1, 2, 1, tzinfo=UTC)
    created = plan(snapshot([dag_snapshot(serialized(sdk_dag), due=True, now=now)], now=now))
    assert [r.logical_date.hour for r in created.runs_to_create] == [0, 6, 12, 18]
    assert created.runs_to_create[-1].next_dagrun_create_after == datetime(
        2024, 1, 2, 6, tzinfo=UTC
    )


def test_end_date_stops_the_schedule() -> None:
    dag = dag_snapshot(daily(end_date=day(2)), due=True, now=JAN5_NOON)
    created = plan(snapshot([dag], now=JAN5_NOON)).runs_to_create
    assert [r.logical_date for r in created] == [day(1), day(2)]
    assert created[-1].next_dagrun is None
    assert created[-1].next_dagrun_data_interval is None
    assert created[-1].next_dagrun_create_after is None


def test_catchup_is_bounded_by_max_active_runs_counting_running_and_queued() -> None:
    dag = daily()
    fresh = dag_snapshot(dag, due=True, now=JAN5_NOON, max_active_runs=3)
    assert len(plan(snapshot([fresh], now=JAN5_NOON)).runs_to_create) == 3
    one_running = dag_snapshot(dag, due=True, now=JAN5_NOON, max_active_runs=3, active_runs=1)
    queued = run_of(dag, state="queued", id=7, logical_date=day(1))
    created = plan(snapshot([one_running], [queued], now=JAN5_NOON)).runs_to_create
    assert [r.logical_date for r in created] == [day(1)]  # 3 - 1 running - 1 queued
    full = dag_snapshot(dag, due=True, now=JAN5_NOON, max_active_runs=1, active_runs=1)
    assert plan(snapshot([full], now=JAN5_NOON)).runs_to_create == ()


def test_no_run_for_paused_dags_or_before_create_after() -> None:
    dag = daily()
    paused = dag_snapshot(dag, due=True, now=JAN5_NOON, is_paused=True)
    assert plan(snapshot([paused], now=JAN5_NOON)).empty
    early = dag_snapshot(dag, due=True, now=JAN5_NOON)
    assert plan(snapshot([early], now=day(1))).empty  # first run due at Jan 2
    unscheduled = dag_snapshot(dag)  # next_dagrun_create_after None
    assert plan(snapshot([unscheduled], now=JAN5_NOON)).empty


def test_broken_next_run_fields_are_a_problem_not_a_crash() -> None:
    dag = daily()
    broken = DagSnapshot(
        dag_id=dag.dag_id,
        dag=dag,
        is_paused=False,
        max_active_runs=16,
        max_active_tasks=16,
        catchup=True,
        next_dagrun_create_after=day(1),
    )
    decisions = plan(snapshot([broken, dag_snapshot(daily("other"), due=True)], now=day(3)))
    assert [r.dag_id for r in decisions.runs_to_create] == ["other", "other"]
    assert len(decisions.problems) == 1 and "'daily'" in decisions.problems[0]


def test_queued_runs_start_oldest_first_within_max_active_runs() -> None:
    dag = daily()
    runs = [
        run_of(dag, state="queued", id=i, logical_date=day(d)) for i, d in ((1, 3), (2, 1), (3, 2))
    ]
    limited = dag_snapshot(dag, max_active_runs=3, active_runs=1)
    started = plan(snapshot([limited], runs)).runs_to_start
    assert [(t.run_id, t.expected, t.state) for t in started] == [
        (2, "queued", "running"),
        (3, "queued", "running"),
    ]
    unlimited = dag_snapshot(dag, max_active_runs=16)
    assert [t.run_id for t in plan(snapshot([unlimited], runs)).runs_to_start] == [2, 3, 1]
    full = dag_snapshot(dag, max_active_runs=1, active_runs=1)
    assert plan(snapshot([full], runs)).runs_to_start == ()


def test_queued_runs_of_a_paused_dag_wait_even_manual_ones() -> None:
    dag = daily()
    manual = run_of(dag, state="queued", id=1)
    paused = dag_snapshot(dag, is_paused=True)
    assert plan(snapshot([paused], [manual])).runs_to_start == ()
    assert [t.run_id for t in plan(snapshot([dag_snapshot(dag)], [manual])).runs_to_start] == [1]


def test_queued_run_of_an_unknown_dag_is_left_alone() -> None:
    dag = daily()
    decisions = plan(snapshot([], [run_of(dag, state="queued"), run_of(dag, id=2)]))
    assert decisions.runs_to_start == () and decisions.task_transitions == ()
    assert decisions.problems == ("DAG 'daily' has running runs but is not in the snapshot",)


def test_started_runs_and_new_runs_in_one_pass() -> None:
    dag = daily()
    manual = run_of(dag, state="queued", id=1, logical_date=NOW)
    decisions = plan(snapshot([dag_snapshot(dag, due=True, now=NOW)], [manual], now=NOW))
    assert [t.run_id for t in decisions.runs_to_start] == [1]
    assert len(decisions.runs_to_create) == 15  # 16 - the queued one
