"""Planner: trigger rules, cascades, depends_on_past, retries, removed tasks, run outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from planner_support import LOGICAL, NOW, dag_snapshot, outcome, run_of, serialized, snapshot

from tradewind.execution.retry import next_retry_delay
from tradewind.operators import EmptyOperator, PythonOperator
from tradewind.scheduler.model import TaskInstanceSnapshot
from tradewind.scheduler.planner import plan
from tradewind.sdk import DAG, chain
from tradewind.serialization import SerializedDAG

S, F, K, UF, R = "success", "failed", "skipped", "upstream_failed", "running"


def two_upstreams(rule: str) -> SerializedDAG:
    with DAG("rules", schedule=None) as dag:
        [EmptyOperator(task_id="u1"), EmptyOperator(task_id="u2")] >> EmptyOperator(
            task_id="t", trigger_rule=rule
        )
    return serialized(dag)


@pytest.mark.parametrize(
    ("rule", "u1", "u2", "expected"),
    [
        ("all_success", S, S, "queued"),
        ("all_success", S, F, UF),
        ("all_success", S, K, K),
        ("all_success", S, R, None),
        ("all_failed", F, UF, "queued"),
        ("all_failed", F, S, K),
        ("all_failed", F, R, None),
        ("all_done", S, F, "queued"),
        ("all_done", S, R, None),
        ("all_done_setup_success", F, K, "queued"),
        ("one_success", S, R, "queued"),
        ("one_success", F, K, UF),
        ("one_success", K, K, K),
        ("one_success", F, R, None),
        ("one_failed", F, R, "queued"),
        ("one_failed", S, K, K),
        ("one_failed", S, R, None),
        ("one_done", F, R, "queued"),
        ("one_done", K, K, K),
        ("none_failed", S, K, "queued"),
        ("none_failed", S, UF, UF),
        ("none_failed", S, R, None),
        ("none_failed_or_skipped", S, K, "queued"),
        ("none_failed_or_skipped", K, K, K),
        ("none_skipped", S, F, "queued"),
        ("none_skipped", S, K, K),
        ("none_failed_min_one_success", S, K, "queued"),
        ("none_failed_min_one_success", K, K, K),
        ("none_failed_min_one_success", F, S, UF),
        ("all_skipped", K, K, "queued"),
        ("all_skipped", K, S, K),
        ("always", R, R, "queued"),
        ("dummy", F, R, "queued"),
    ],
)
def test_trigger_rule_wiring(rule: str, u1: str, u2: str, expected: str | None) -> None:
    dag = two_upstreams(rule)
    run = run_of(dag, {"u1": u1, "u2": u2})
    assert outcome(plan(snapshot([dag_snapshot(dag)], [run])), run).get("t") == expected


def test_fresh_run_schedules_and_queues_only_roots() -> None:
    dag = two_upstreams("all_success")
    run = run_of(dag)
    decisions = plan(snapshot([dag_snapshot(dag)], [run]))
    assert outcome(decisions, run) == {"u1": "queued", "u2": "queued"}
    for transition in decisions.tis_to_queue:  # one transition from the stored row
        assert (transition.expected_state, transition.expected_try_number) == (None, 0)
        assert transition.try_number == 1


def chain_dag(n: int, **task_kwargs: object) -> SerializedDAG:
    with DAG(f"chain{n}", schedule=None) as dag:
        chain(*(EmptyOperator(task_id=f"t{i:04}", **task_kwargs) for i in range(n)))  # type: ignore[arg-type]
    return serialized(dag)


def test_upstream_failed_cascades_down_a_chain_and_fails_the_run_in_one_pass() -> None:
    dag = chain_dag(50)
    run = run_of(dag, {"t0000": F})
    decisions = plan(snapshot([dag_snapshot(dag)], [run]))
    assert set(outcome(decisions, run).values()) == {UF}
    assert len(decisions.task_transitions) == 49
    assert [(t.run_id, t.state) for t in decisions.runs_to_finish] == [(1, "failed")]


def test_cascade_reaches_a_rule_that_runs_on_failure() -> None:
    with DAG("mixed", schedule=None) as sdk_dag:
        chain(
            EmptyOperator(task_id="a"),
            EmptyOperator(task_id="b"),
            EmptyOperator(task_id="cleanup", trigger_rule="one_failed"),
            EmptyOperator(task_id="report", trigger_rule="all_done"),
        )
    dag = serialized(sdk_dag)
    run = run_of(dag, {"a": F})
    decisions = plan(snapshot([dag_snapshot(dag)], [run]))
    assert outcome(decisions, run) == {"b": UF, "cleanup": "queued"}
    assert decisions.runs_to_finish == ()


def branching_dag() -> SerializedDAG:
    with DAG("branch", schedule=None) as sdk_dag:
        pick = PythonOperator(task_id="pick", python_callable=lambda: None)
        left, right = EmptyOperator(task_id="left"), EmptyOperator(task_id="right")
        left_after, right_after = (
            EmptyOperator(task_id="left_after"),
            EmptyOperator(task_id="right_after"),
        )
        join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
        pick >> [left, right]
        left >> left_after >> join
        right >> right_after >> join
    return serialized(sdk_dag)


def test_branch_skips_propagate_and_the_join_waits_for_the_chosen_path() -> None:
    dag = branching_dag()
    # The branch task ran and skipped "right" (a worker writes that directly).
    run = run_of(dag, {"pick": S, "left": S, "right": K})
    first = plan(snapshot([dag_snapshot(dag)], [run]))
    assert outcome(first, run) == {"left_after": "queued", "right_after": K}
    later = run_of(dag, {"pick": S, "left": S, "right": K, "left_after": S, "right_after": K})
    assert outcome(plan(snapshot([dag_snapshot(dag)], [later])), later) == {"join": "queued"}


def test_everything_skipped_downstream_of_a_skip_finishes_the_run_successfully() -> None:
    dag = chain_dag(5)
    run = run_of(dag, {"t0000": K})
    decisions = plan(snapshot([dag_snapshot(dag)], [run]))
    assert set(outcome(decisions, run).values()) == {K}
    assert [t.state for t in decisions.runs_to_finish] == ["success"]


@pytest.mark.parametrize(
    ("previous", "expected"),
    [("success", "queued"), ("skipped", "queued"), ("failed", None), (None, None)],
)
def test_depends_on_past_waits_for_the_previous_run(
    previous: str | None, expected: str | None
) -> None:
    dag = chain_dag(1, depends_on_past=True)
    run = run_of(dag)
    past = {("chain1", run.run_id, "t0000"): previous}
    decisions = plan(snapshot([dag_snapshot(dag)], [run], previous_ti_states=past))
    assert outcome(decisions, run).get("t0000") == expected


def test_depends_on_past_without_a_previous_run_runs() -> None:
    dag = chain_dag(1, wait_for_downstream=True)
    run = run_of(dag)
    assert outcome(plan(snapshot([dag_snapshot(dag)], [run])), run) == {"t0000": "queued"}


def test_depends_on_past_does_not_hold_back_upstream_failed() -> None:
    dag = chain_dag(2, depends_on_past=True)
    run = run_of(dag, {"t0000": F})
    past = {("chain2", run.run_id, "t0001"): F}
    decisions = plan(snapshot([dag_snapshot(dag)], [run], previous_ti_states=past))
    assert outcome(decisions, run) == {"t0001": UF}


def retry_dag(**kwargs: object) -> tuple[DAG, SerializedDAG]:
    with DAG("retrying", schedule=None) as sdk_dag:
        EmptyOperator(task_id="t", retries=5, **kwargs)  # type: ignore[arg-type]
    return sdk_dag, serialized(sdk_dag)


def retry_outcome(dag: SerializedDAG, ended: timedelta, try_number: int) -> str | None:
    run = run_of(dag, {"t": "up_for_retry"}, tries={"t": try_number}, end_dates={"t": NOW - ended})
    return outcome(plan(snapshot([dag_snapshot(dag)], [run])), run).get("t")


def test_retry_waits_for_retry_delay() -> None:
    _, dag = retry_dag(retry_delay=timedelta(minutes=5))
    assert retry_outcome(dag, timedelta(minutes=4, seconds=59), 1) is None
    assert retry_outcome(dag, timedelta(minutes=5), 1) == "queued"
    run = run_of(dag, {"t": "up_for_retry"}, tries={"t": 2}, end_dates={"t": LOGICAL})
    (queued,) = plan(snapshot([dag_snapshot(dag)], [run])).tis_to_queue
    assert (queued.expected_state, queued.expected_try_number, queued.try_number) == (
        "up_for_retry",
        2,
        3,
    )


@pytest.mark.parametrize("try_number", [1, 3, 5])
def test_exponential_backoff_matches_the_workers_delay(try_number: int) -> None:
    sdk_dag, dag = retry_dag(retry_delay=timedelta(seconds=60), retry_exponential_backoff=True)
    delay = next_retry_delay(sdk_dag.get_task("t"), try_number, logical_date=LOGICAL)
    assert delay >= timedelta(seconds=60 * 2 ** (try_number - 1))
    assert retry_outcome(dag, delay - timedelta(seconds=1), try_number) is None
    assert retry_outcome(dag, delay, try_number) == "queued"


def test_max_retry_delay_caps_the_backoff() -> None:
    _, dag = retry_dag(
        retry_delay=timedelta(minutes=10),
        retry_exponential_backoff=True,
        max_retry_delay=timedelta(minutes=15),
    )
    assert retry_outcome(dag, timedelta(minutes=14), 4) is None
    assert retry_outcome(dag, timedelta(minutes=15), 4) == "queued"


def test_task_instances_of_removed_tasks() -> None:
    dag = chain_dag(1)
    gone = [
        TaskInstanceSnapshot(90 + i, f"gone{i}", -1, state, 0, 0, "default_pool", 1, 1)
        for i, state in enumerate([None, "scheduled", "up_for_retry", S, R])
    ]
    run = run_of(dag, {"t0000": S}, extra=gone)
    decisions = plan(snapshot([dag_snapshot(dag)], [run]))
    assert outcome(decisions, run) == {"gone0": "removed", "gone1": "removed", "gone2": "removed"}
    assert decisions.runs_to_finish == ()  # gone4 is still running


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ({"a": S, "b": S, "c": S}, "success"),
        ({"a": S, "b": F, "c": S}, "failed"),  # b is a leaf
        ({"a": S, "b": UF, "c": S}, "failed"),
        ({"a": F, "b": S, "c": S}, "success"),  # a failed but is no leaf
        ({"a": S, "b": K, "c": S}, "success"),
        ({"a": S, "b": S, "c": "up_for_retry"}, None),
        ({"a": S, "b": S, "c": R}, None),
    ],
)
def test_run_outcome_follows_the_leaves(states: dict[str, str], expected: str | None) -> None:
    with DAG("leaves", schedule=None) as sdk_dag:
        a = EmptyOperator(task_id="a")
        a >> [EmptyOperator(task_id="b"), EmptyOperator(task_id="c", trigger_rule="all_done")]
    dag = serialized(sdk_dag)
    run = run_of(dag, states, end_dates={"c": NOW})
    finished = plan(snapshot([dag_snapshot(dag)], [run])).runs_to_finish
    assert [t.state for t in finished] == ([expected] if expected else [])
    for transition in finished:
        assert (transition.run_id, transition.expected) == (run.id, "running")


def timeout_dag() -> SerializedDAG:
    with DAG("slow", schedule=None, dagrun_timeout=timedelta(hours=1)) as sdk_dag:
        [EmptyOperator(task_id=n) for n in ("none", "sched", "retry", "queued", "running", "ok")]
    return serialized(sdk_dag)


def test_dagrun_timeout_fails_the_run_and_skips_what_no_worker_holds() -> None:
    dag = timeout_dag()
    states = {"sched": "scheduled", "retry": "up_for_retry", "queued": "queued", R: R, "ok": S}
    run = run_of(dag, states, start_date=NOW - timedelta(hours=1))
    decisions = plan(snapshot([dag_snapshot(dag)], [run]))
    assert outcome(decisions, run) == {"none": K, "sched": K, "retry": K}
    assert decisions.tis_to_queue == ()
    assert [(t.state, t.reason) for t in decisions.runs_to_finish] == [("failed", "timed out")]


def test_dagrun_within_timeout_runs_on() -> None:
    dag = timeout_dag()
    run = run_of(dag, start_date=NOW - timedelta(minutes=59))
    decisions = plan(snapshot([dag_snapshot(dag)], [run]))
    assert decisions.runs_to_finish == () and len(decisions.tis_to_queue) == 6


def test_running_runs_of_a_paused_dag_are_left_alone() -> None:
    dag = chain_dag(3)
    run = run_of(dag, {"t0000": F})
    assert plan(snapshot([dag_snapshot(dag, is_paused=True)], [run])).empty


def test_queued_runs_get_no_task_decisions() -> None:
    dag = chain_dag(3)
    run = run_of(dag, state="queued")
    decisions = plan(snapshot([dag_snapshot(dag)], [run]))
    assert decisions.task_transitions == () and decisions.tis_to_queue == ()
