"""In-memory XCom store and task instance: Airflow 2.10's xcom_pull shapes."""

from __future__ import annotations

import pytest

from tradewind.execution.memory import InMemoryXComStore, LocalTaskInstance


def ti(store: InMemoryXComStore, task_id: str, map_index: int = -1) -> LocalTaskInstance:
    return LocalTaskInstance(
        dag_id="d", task_id=task_id, run_id="r", xcom_store=store, map_index=map_index
    )


@pytest.fixture
def store() -> InMemoryXComStore:
    return InMemoryXComStore()


def test_single_task_id_gives_value_or_none(store: InMemoryXComStore) -> None:
    ti(store, "a").xcom_push("return_value", 1)
    reader = ti(store, "b")
    assert reader.xcom_pull(task_ids="a") == 1
    assert reader.xcom_pull(task_ids="missing") is None
    assert reader.xcom_pull(task_ids="missing", default=5) == 5
    assert reader.xcom_pull(task_ids="a", key="other") is None


def test_list_of_task_ids_gives_list_in_that_order(store: InMemoryXComStore) -> None:
    ti(store, "a").xcom_push("return_value", "A")
    ti(store, "b").xcom_push("return_value", "B")
    reader = ti(store, "c")
    assert reader.xcom_pull(task_ids=["b", "a"]) == ["B", "A"]
    assert reader.xcom_pull(task_ids=["a", "missing", "b"]) == ["A", "B"]


def test_no_task_ids_gives_newest_value_of_key(store: InMemoryXComStore) -> None:
    ti(store, "a").xcom_push("k", 1)
    ti(store, "b").xcom_push("k", 2)
    assert ti(store, "c").xcom_pull(key="k") == 2


def test_mapped_task_values(store: InMemoryXComStore) -> None:
    for index in (2, 0, 1):
        ti(store, "m", index).xcom_push("return_value", index * 10)
    reader = ti(store, "c")
    assert reader.xcom_pull(task_ids="m") == [0, 10, 20]
    assert reader.xcom_pull(task_ids="m", map_indexes=1) == 10
    assert reader.xcom_pull(task_ids="m", map_indexes=[2, 0]) == [20, 0]


def test_pushed_values_are_copied(store: InMemoryXComStore) -> None:
    value = {"rows": [1]}
    ti(store, "a").xcom_push("return_value", value)
    value["rows"].append(2)
    assert ti(store, "b").xcom_pull(task_ids="a") == {"rows": [1]}


def test_other_runs_and_dags_are_separate(store: InMemoryXComStore) -> None:
    ti(store, "a").xcom_push("return_value", 1)
    other = LocalTaskInstance(dag_id="d", task_id="a", run_id="r2", xcom_store=store)
    assert other.xcom_pull(task_ids="a") is None
    assert other.xcom_pull(task_ids="a", dag_id="elsewhere") is None


def test_clear_xcom_and_skip_recording(store: InMemoryXComStore) -> None:
    writer = ti(store, "a")
    writer.xcom_push("return_value", 1)
    writer.clear_xcom()
    assert writer.xcom_pull(task_ids="a") is None
    writer.skip_tasks(["x", "y"])
    assert writer.skipped_task_ids == {"x", "y"}


def test_for_run_groups_by_task(store: InMemoryXComStore) -> None:
    ti(store, "a").xcom_push("return_value", 1)
    ti(store, "a").xcom_push("extra", 2)
    assert store.for_run("d", "r") == {"a": {"return_value": 1, "extra": 2}}
