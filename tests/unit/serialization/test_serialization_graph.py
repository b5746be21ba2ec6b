"""Graph helpers of SerializedDAG: order, relatives, priority weights, and scale."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import pytest

from tradewind.errors import CycleError, NotFound
from tradewind.operators import EmptyOperator
from tradewind.sdk import DAG, BaseOperator, chain
from tradewind.serialization import SerializedDAG, deserialize_dag, serialize_dag

START = datetime(2024, 1, 1, tzinfo=UTC)


def diamond(weight_rule: str) -> SerializedDAG:
    """a -> (b, c) -> d, weights 1, 2, 4, 8."""
    with DAG("diamond", schedule=None, default_args={"weight_rule": weight_rule}) as the_dag:
        a, b, c, d = (
            EmptyOperator(task_id=name, priority_weight=weight)
            for name, weight in (("a", 1), ("b", 2), ("c", 4), ("d", 8))
        )
        a >> [b, c] >> d
    return deserialize_dag(serialize_dag(the_dag))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("downstream", {"a": 15, "b": 10, "c": 12, "d": 8}),
        ("upstream", {"a": 1, "b": 3, "c": 5, "d": 15}),
        ("absolute", {"a": 1, "b": 2, "c": 4, "d": 8}),
    ],
)
def test_priority_weights_per_rule(rule: str, expected: dict[str, int]) -> None:
    # d is reached from a along two paths but counts once, as in Airflow.
    assert dict(diamond(rule).priority_weights()) == expected


def brute_force_weights(the_dag: DAG) -> dict[str, int]:
    totals: dict[str, int] = {}
    for task in the_dag.tasks:
        if task.weight_rule == "absolute":
            totals[task.task_id] = task.priority_weight
            continue
        relatives = task.get_flat_relative_ids(upstream=task.weight_rule == "upstream")
        totals[task.task_id] = task.priority_weight + sum(
            the_dag.get_task(other).priority_weight for other in relatives
        )
    return totals


def random_dag(seed: int, n: int, distinct_weights: int) -> DAG:
    rng = random.Random(seed)
    with DAG(f"random_{seed}", schedule=None) as the_dag:
        tasks = [
            EmptyOperator(
                task_id=f"t{i}",
                priority_weight=rng.randrange(distinct_weights),
                weight_rule=rng.choice(["downstream", "upstream", "absolute"]),
            )
            for i in range(n)
        ]
        for i, task in enumerate(tasks):
            for j in rng.sample(range(i + 1, n), k=min(3, n - i - 1)):
                task >> tasks[j]
    return the_dag


@pytest.mark.parametrize(("seed", "distinct"), [(1, 3), (2, 5), (3, 1000)])
def test_priority_weights_match_a_brute_force_count(seed: int, distinct: int) -> None:
    # distinct=1000 exercises the bit-by-bit path used when weights are mostly unique.
    the_dag = random_dag(seed, 120, distinct)
    serialized = deserialize_dag(serialize_dag(the_dag))
    assert dict(serialized.priority_weights()) == brute_force_weights(the_dag)


def test_relatives_for_clearing() -> None:
    s = diamond("downstream")
    assert s.relatives(["b"]) == {"b"}
    assert s.relatives(["b"], downstream=True) == {"b", "d"}
    assert s.relatives(["b"], upstream=True) == {"a", "b"}
    assert s.relatives(["b", "c"], upstream=True, downstream=True) == {"a", "b", "c", "d"}
    with pytest.raises(NotFound, match="'zzz' not found in DAG 'diamond'"):
        s.relatives(["zzz"])


def test_relatives_match_the_sdk() -> None:
    the_dag = random_dag(7, 60, 2)
    s = deserialize_dag(serialize_dag(the_dag))
    for task_id in ("t0", "t10", "t59"):
        for up, down in ((True, False), (False, True), (True, True)):
            expected = the_dag.relatives([task_id], upstream=up, downstream=down)
            assert s.relatives([task_id], upstream=up, downstream=down) == expected


def test_topological_order_roots_leaves_and_lookup() -> None:
    the_dag = random_dag(11, 80, 2)
    s = deserialize_dag(serialize_dag(the_dag))
    position = {task.task_id: i for i, task in enumerate(s.topological_order())}
    assert len(position) == 80
    for task in s.tasks:
        assert all(position[up] < position[task.task_id] for up in task.upstream_task_ids)
    assert {t.task_id for t in s.roots} == {t.task_id for t in the_dag.roots}
    assert {t.task_id for t in s.leaves} == {t.task_id for t in the_dag.leaves}
    assert s.task_ids == the_dag.task_ids
    assert s.get_task("t3").task_id == "t3" and s.has_task("t3") and not s.has_task("t999")
    with pytest.raises(NotFound, match="'t999' not found in DAG 'random_11'"):
        s.get_task("t999")


def test_a_cycle_in_a_hand_edited_document_is_reported() -> None:
    with DAG("edited", schedule=None) as the_dag:
        EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
    document = serialize_dag(the_dag)
    first, second = document["dag"]["tasks"]
    first["upstream_task_ids"] = ["b"]
    second["downstream_task_ids"] = ["a"]
    with pytest.raises(CycleError, match="a, b"):
        deserialize_dag(document).topological_order()


def test_a_thousand_task_chain_is_fast() -> None:
    class Step(BaseOperator):
        template_fields = ("command",)

        def __init__(self, command: str, **kwargs: object) -> None:
            super().__init__(**kwargs)  # type: ignore[arg-type]
            self.command = command

    started = time.perf_counter()
    with DAG("long_chain", schedule="@daily", start_date=START) as the_dag:
        chain(*(Step(task_id=f"step_{i:04d}", command=f"echo {i}") for i in range(1000)))
    built = time.perf_counter()
    document = serialize_dag(the_dag)
    serialized = time.perf_counter()
    s = deserialize_dag(document)
    deserialized = time.perf_counter()
    weights = s.priority_weights()
    order = s.topological_order()
    relatives = s.relatives(["step_0500"], upstream=True, downstream=True)
    graphed = time.perf_counter()
    assert weights["step_0000"] == 1000 and weights["step_0999"] == 1
    assert order[0].task_id == "step_0000" and len(relatives) == 1000
    print(
        f"\n1,000-task chain: build {built - started:.3f}s, serialize {serialized - built:.3f}s, "
        f"deserialize {deserialized - serialized:.3f}s, graph helpers "
        f"{graphed - deserialized:.3f}s"
    )
