"""Planner: which scheduled task instances get a slot, in which order, and the guards."""

from __future__ import annotations

from datetime import timedelta

from planner_support import (
    LOGICAL,
    dag_snapshot,
    outcome,
    queued_task_ids,
    run_of,
    serialized,
    snapshot,
)

from tradewind.operators import EmptyOperator
from tradewind.scheduler.model import PoolSnapshot
from tradewind.scheduler.planner import plan
from tradewind.sdk import DAG
from tradewind.serialization import SerializedDAG


def roots(dag_id: str, count: int, **task_kwargs: object) -> SerializedDAG:
    """``count`` independent tasks t0.. with absolute weights 1..count (t{n-1} first)."""
    with DAG(dag_id, schedule=None) as dag:
        for i in range(count):
            EmptyOperator(  # type: ignore[misc]
                task_id=f"t{i}", priority_weight=i + 1, weight_rule="absolute", **task_kwargs
            )
    return serialized(dag)


def test_parallelism_counts_active_task_instances() -> None:
    dag = roots("wide", 5)
    run = run_of(dag)
    decisions = plan(snapshot([dag_snapshot(dag)], [run], parallelism=3, active_tis=1))
    assert queued_task_ids(decisions, run) == ["t4", "t3"]
    # The rest were found ready: their rows move None -> scheduled and wait.
    left = decisions.task_transitions
    assert [(t.expected_state, t.state) for t in left] == [(None, "scheduled")] * 3
    assert (
        plan(snapshot([dag_snapshot(dag)], [run], parallelism=3, active_tis=3)).tis_to_queue == ()
    )


def test_executor_open_slots_bound_one_pass() -> None:
    dag = roots("wide", 5)
    run = run_of(dag)
    decisions = plan(snapshot([dag_snapshot(dag)], [run], executor_open_slots=1))
    assert queued_task_ids(decisions, run) == ["t4"]


def test_already_scheduled_rows_are_queued_from_scheduled_and_otherwise_untouched() -> None:
    dag = roots("wide", 3)
    run = run_of(dag, {"t0": "scheduled", "t1": "scheduled", "t2": "scheduled"})
    decisions = plan(snapshot([dag_snapshot(dag)], [run], parallelism=1))
    (queued,) = decisions.tis_to_queue
    assert (queued.expected_state, queued.state) == ("scheduled", "queued")
    assert (queued.expected_try_number, queued.try_number) == (1, 2)
    assert decisions.task_transitions == ()


def test_max_active_tasks_is_per_dag() -> None:
    busy, other = roots("busy", 3), roots("other", 2)
    runs = [run_of(busy, id=1), run_of(other, id=2)]
    dags = [dag_snapshot(busy, max_active_tasks=2), dag_snapshot(other, max_active_tasks=2)]
    decisions = plan(snapshot(dags, runs, active_tis_by_dag={"busy": 1}))
    # busy has room for one more (its best, t2); other's tasks are not held back by it.
    assert queued_task_ids(decisions, *runs) == ["t2@1", "t1@2", "t0@2"]


def test_max_active_tis_per_dag_spans_runs_oldest_run_first() -> None:
    dag = roots("limited", 1, max_active_tis_per_dag=1)
    old = run_of(dag, id=1, logical_date=LOGICAL - timedelta(days=1))
    new = run_of(dag, id=2)
    decisions = plan(snapshot([dag_snapshot(dag)], [new, old]))
    assert queued_task_ids(decisions, new, old) == ["t0@1"]
    busy = plan(
        snapshot([dag_snapshot(dag)], [new, old], active_tis_by_task={("limited", "t0"): 1})
    )
    assert busy.tis_to_queue == ()


def pooled() -> SerializedDAG:
    with DAG("pooled", schedule=None, default_args={"weight_rule": "absolute"}) as dag:
        for name, weight, slots in (("big1", 9, 2), ("big2", 8, 2), ("small", 1, 1)):
            EmptyOperator(task_id=name, pool="p", pool_slots=slots, priority_weight=weight)
    return serialized(dag)


def test_pool_slots_skip_what_does_not_fit_and_admit_what_does() -> None:
    dag = pooled()
    run = run_of(dag)
    pool = PoolSnapshot("p", slots=4, occupied=1)
    decisions = plan(snapshot([dag_snapshot(dag)], [run], pools=[pool]))
    # 3 free: big1 takes 2, big2 needs 2 of the 1 left and waits, small fits.
    assert queued_task_ids(decisions, run) == ["big1", "small"]
    assert outcome(decisions, run)["big2"] == "scheduled"


def test_pool_of_negative_size_is_unlimited() -> None:
    dag = pooled()
    run = run_of(dag)
    decisions = plan(snapshot([dag_snapshot(dag)], [run], pools=[PoolSnapshot("p", -1, 50)]))
    assert len(decisions.tis_to_queue) == 3


def test_task_in_a_missing_pool_stays_scheduled() -> None:
    dag = pooled()
    fresh, stored = run_of(dag, id=1), run_of(dag, {"big1": "scheduled"}, id=2)
    decisions = plan(snapshot([dag_snapshot(dag)], [fresh, stored]))
    assert decisions.tis_to_queue == ()
    assert set(outcome(decisions, fresh).values()) == {"scheduled"}
    assert outcome(decisions, stored) == {"big2": "scheduled", "small": "scheduled"}


def weighted(rule: str) -> SerializedDAG:
    """a -> b -> c, and lone d; own weights a=1, b=2, c=4, d=3."""
    with DAG(f"w_{rule}", schedule=None, default_args={"weight_rule": rule}) as dag:
        a, b, c = (EmptyOperator(task_id=n, priority_weight=w) for n, w in zip("abc", (1, 2, 4)))
        a >> b >> c
        EmptyOperator(task_id="d", priority_weight=3)
    return serialized(dag)


def test_priority_with_downstream_weights() -> None:
    dag = weighted("downstream")  # a = 1 + 2 + 4 = 7 beats d = 3
    run = run_of(dag)
    assert queued_task_ids(plan(snapshot([dag_snapshot(dag)], [run])), run) == ["a", "d"]


def test_priority_with_upstream_weights() -> None:
    dag = weighted("upstream")  # b = 1 + 2 = 3 ties d = 3: task id decides
    run = run_of(dag, {"a": "success"}, end_dates={"a": LOGICAL})
    assert queued_task_ids(plan(snapshot([dag_snapshot(dag)], [run])), run) == ["b", "d"]
    later = run_of(dag, {"a": "success", "b": "success"})
    assert queued_task_ids(plan(snapshot([dag_snapshot(dag)], [later])), later) == ["c", "d"]


def test_priority_with_absolute_weights_then_logical_date() -> None:
    dag = weighted("absolute")  # d = 3 beats a = 1
    old = run_of(dag, id=1, logical_date=LOGICAL - timedelta(days=1))
    new = run_of(dag, id=2)
    decisions = plan(snapshot([dag_snapshot(dag)], [new, old], parallelism=3))
    assert queued_task_ids(decisions, new, old) == ["d@1", "d@2", "a@1"]
