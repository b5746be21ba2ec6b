"""Planner: 1,000-task chains and fan-outs plan in one linear pass (times printed, not asserted)."""

from __future__ import annotations

import time
from collections.abc import Callable

from planner_support import dag_snapshot, outcome, run_of, serialized, snapshot

from tradewind.operators import EmptyOperator
from tradewind.scheduler.model import Decisions, Snapshot
from tradewind.scheduler.planner import plan
from tradewind.sdk import DAG, chain
from tradewind.serialization import SerializedDAG

N = 1_000


def timed(label: str, make: Callable[[], Snapshot]) -> Decisions:
    the_snapshot = make()
    plan(the_snapshot)  # warm the serialized DAG's memoised order and weights
    started = time.perf_counter()
    decisions = plan(the_snapshot)
    print(f"\nplan({label}): {(time.perf_counter() - started) * 1000:.1f} ms")
    return decisions


def chain_of(n: int) -> SerializedDAG:
    with DAG("long_chain", schedule=None) as dag:
        chain(*(EmptyOperator(task_id=f"t{i:04}") for i in range(n)))
    return serialized(dag)


def fan_out(n: int) -> SerializedDAG:
    with DAG("fan_out", schedule=None) as dag:
        root, join = EmptyOperator(task_id="root"), EmptyOperator(task_id="join")
        for i in range(n):
            root >> EmptyOperator(task_id=f"t{i:04}") >> join
    return serialized(dag)


def test_chain_failure_cascades_through_1000_tasks_in_one_pass() -> None:
    dag = chain_of(N)
    run = run_of(dag, {"t0000": "failed"})
    decisions = timed("1,000-task chain, cascade", lambda: snapshot([dag_snapshot(dag)], [run]))
    assert set(outcome(decisions, run).values()) == {"upstream_failed"}
    assert len(decisions.task_transitions) == N - 1
    assert [t.state for t in decisions.runs_to_finish] == ["failed"]


def test_chain_midway_queues_the_next_task() -> None:
    dag = chain_of(N)
    run = run_of(dag, {f"t{i:04}": "success" for i in range(N // 2)})
    decisions = timed("1,000-task chain, midway", lambda: snapshot([dag_snapshot(dag)], [run]))
    assert outcome(decisions, run) == {f"t{N // 2:04}": "queued"}


def test_fan_out_of_1000_queues_up_to_the_limits() -> None:
    dag = fan_out(N)
    run = run_of(dag, {"root": "success"})
    decisions = timed(
        "1,000-task fan-out",
        lambda: snapshot(
            [dag_snapshot(dag, max_active_tasks=64)], [run], parallelism=64, executor_open_slots=64
        ),
    )
    assert len(decisions.tis_to_queue) == 64
    assert len(decisions.task_transitions) == N - 64  # the rest: None -> scheduled
    assert "join" not in outcome(decisions, run)


def test_fan_in_of_1000_runs_the_join() -> None:
    dag = fan_out(N)
    run = run_of(dag, {"root": "success", **{f"t{i:04}": "success" for i in range(N)}})
    decisions = timed("1,000-task fan-in", lambda: snapshot([dag_snapshot(dag)], [run]))
    assert outcome(decisions, run) == {"join": "queued"}
