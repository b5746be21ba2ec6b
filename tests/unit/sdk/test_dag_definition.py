"""Building DAGs: attaching tasks, ids, default arguments, graph queries and validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tradewind.errors import CycleError, DagDefinitionError, DuplicateTaskIdError, NotFound
from tradewind.sdk import DAG, BaseOperator, TaskGroup
from tradewind.sdk.trigger_rules import TriggerRule
from tradewind.sdk.weight_rule import WeightRule

START = datetime(2024, 1, 1, tzinfo=UTC)


class Op(BaseOperator):
    template_fields = ("payload",)

    def __init__(self, *, payload: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.payload = payload


def ids(tasks: Any) -> list[str]:
    return sorted(task.task_id for task in tasks)


def make_tasks(dag: DAG, *names: str) -> list[Op]:
    return [Op(task_id=name, dag=dag) for name in names]


# -- attaching tasks ----------------------------------------------------------------


def test_context_manager_attaches_tasks() -> None:
    with DAG("d", start_date=START) as dag:
        task = Op(task_id="t")
    assert dag.task_dict == {"t": task}
    assert task.dag is dag and task.dag_id == "d"
    assert Op(task_id="outside").has_dag is False


def test_dag_argument_attaches_without_a_context() -> None:
    dag = DAG("d", start_date=START)
    task = Op(task_id="t", dag=dag)
    assert dag.get_task("t") is task


def test_explicit_dag_wins_over_the_open_one() -> None:
    other = DAG("other")
    with DAG("d") as dag:
        task = Op(task_id="t", dag=other)
    assert task.dag is other and not dag.has_task("t")


def test_nested_dag_contexts_restore_the_outer_dag() -> None:
    with DAG("outer") as outer:
        with DAG("inner") as inner:
            Op(task_id="a")
        Op(task_id="b")
    assert (inner.task_ids, outer.task_ids) == (["a"], ["b"])


def test_task_without_dag() -> None:
    task = Op(task_id="loose")
    with pytest.raises(DagDefinitionError, match="'loose' has not been assigned to a DAG yet"):
        _ = task.dag
    assert task.dag_id == "adhoc_airflow"
    dag = DAG("late")
    task.dag = dag
    assert dag.get_task("loose") is task


def test_get_missing_task_is_not_found() -> None:
    with pytest.raises(NotFound, match="Task 'nope' not found in DAG 'd'"):
        DAG("d").get_task("nope")


def test_duplicate_task_id() -> None:
    with DAG("d") as dag:
        Op(task_id="t")
        with pytest.raises(DuplicateTaskIdError, match="'t' has already been added to the DAG 'd'"):
            Op(task_id="t")
    assert len(dag.tasks) == 1


def test_task_of_another_dag_cannot_be_added() -> None:
    task = Op(task_id="t", dag=DAG("first"))
    with pytest.raises(DagDefinitionError, match="already belongs to DAG 'first'"):
        DAG("second").add_task(task)


@pytest.mark.parametrize("bad", ["", "has space", "slash/id", "ünïcode?", "x" * 251, None, 5])
def test_invalid_task_ids(bad: Any) -> None:
    with pytest.raises(DagDefinitionError, match="task_id"):
        Op(task_id=bad)


@pytest.mark.parametrize("bad", ["", "a b", "a/b", "x" * 251])
def test_invalid_dag_ids(bad: str) -> None:
    with pytest.raises(DagDefinitionError, match="dag_id"):
        DAG(bad)


@pytest.mark.parametrize("good", ["a", "A-b_c.d", "x" * 250, "task_1"])
def test_valid_ids(good: str) -> None:
    assert DAG(good).dag_id == good
    assert Op(task_id=good).task_id == good


# -- arguments -------------------------------------------------------------------------


def test_default_args_precedence() -> None:
    dag_defaults = {"retries": 1, "owner": "dag", "queue": "dag_q", "pool": "dag_pool"}
    with DAG("d", default_args=dag_defaults):
        with TaskGroup("g", default_args={"retries": 2, "owner": "group"}):
            explicit = Op(task_id="explicit", retries=3)
            from_group = Op(task_id="from_group")
            with TaskGroup("inner", default_args={"owner": "inner"}):
                nested = Op(task_id="nested")
        from_dag = Op(task_id="from_dag")
        builtin = Op(task_id="builtin", default_args={"pool": None})
    assert (explicit.retries, explicit.owner) == (3, "group")
    assert (from_group.retries, from_group.owner, from_group.queue) == (2, "group", "dag_q")
    assert (nested.retries, nested.owner) == (2, "inner")
    assert (from_dag.retries, from_dag.owner, from_dag.pool) == (1, "dag", "dag_pool")
    assert (builtin.pool, builtin.priority_weight, builtin.weight_rule) == (
        "default_pool",
        1,
        WeightRule.DOWNSTREAM,
    )
    assert builtin.trigger_rule is TriggerRule.ALL_SUCCESS


def test_task_default_args_override_the_dags() -> None:
    with DAG("d", default_args={"retries": 1}):
        task = Op(task_id="t", default_args={"retries": 4})
    assert task.retries == 4


def test_start_date_comes_from_default_args_and_the_dag() -> None:
    dag = DAG("d", default_args={"start_date": datetime(2024, 2, 1)})
    task = Op(task_id="t", dag=dag)
    assert dag.start_date == task.start_date == datetime(2024, 2, 1, tzinfo=UTC)


def test_naive_start_date_is_utc_and_aware_keeps_its_instant() -> None:
    assert DAG("naive", start_date=datetime(2024, 1, 1)).start_date == START
    plus_two = timezone(timedelta(hours=2))
    aware = DAG("aware", start_date=datetime(2024, 1, 1, 2, tzinfo=plus_two))
    assert aware.start_date == START and aware.start_date.tzinfo is UTC


def test_seconds_become_timedeltas() -> None:
    task = Op(task_id="t", retry_delay=30, execution_timeout=60.5)
    assert task.retry_delay == timedelta(seconds=30)
    assert task.execution_timeout == timedelta(seconds=60.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trigger_rule": "sometimes"}, "The trigger_rule must be one of all_success"),
        ({"weight_rule": "heaviest"}, "The weight_rule must be one of downstream, upstream"),
        ({"retries": -1}, "retries must not be negative"),
        ({"pool_slots": 0}, "pool_slots must be at least 1"),
        ({"retry_delay": "5m"}, "retry_delay must be a timedelta or seconds"),
    ],
)
def test_bad_task_arguments(kwargs: dict[str, Any], message: str) -> None:
    with DAG("d") as dag:
        with pytest.raises(DagDefinitionError, match=message):
            Op(task_id="t", **kwargs)
    assert dag.task_ids == []


def test_unknown_operator_kwarg() -> None:
    with pytest.raises(DagDefinitionError) as caught:
        Op(task_id="t", colour="red", bogus=1)
    assert str(caught.value) == (
        "Invalid arguments were passed to Op (task_id: t). "
        "Invalid arguments were: ['bogus', 'colour']"
    )


def test_trigger_and_weight_rules_parse_strings() -> None:
    task = Op(task_id="t", trigger_rule="one_failed", weight_rule="absolute")
    assert (task.trigger_rule, task.weight_rule) == (TriggerRule.ONE_FAILED, WeightRule.ABSOLUTE)


# -- graph queries and validation ----------------------------------------------------------


def diamond() -> DAG:
    with DAG("diamond") as dag:
        a, b, c, d, e = (Op(task_id=name) for name in "abcde")
        a >> [b, c] >> d
    return dag


def test_topological_order() -> None:
    order = [task.task_id for task in diamond().topological_sort()]
    assert order.index("a") < order.index("b") < order.index("d")
    assert order.index("a") < order.index("c") < order.index("d")
    assert sorted(order) == ["a", "b", "c", "d", "e"]


def test_relatives() -> None:
    dag = diamond()
    assert dag.relatives(["b"]) == {"b"}
    assert dag.relatives(["b"], upstream=True) == {"a", "b"}
    assert dag.relatives(["b"], downstream=True) == {"b", "d"}
    assert dag.relatives(["b", "e"], upstream=True, downstream=True) == {"a", "b", "d", "e"}
    assert dag.get_task("a").get_flat_relative_ids(upstream=False) == {"b", "c", "d"}


def test_cycle_error_names_the_cycle_path() -> None:
    with pytest.raises(CycleError) as caught:
        with DAG("loop"):
            a, b, c, d = (Op(task_id=name) for name in "abcd")
            d >> a >> b >> c >> a
    assert str(caught.value) == "Cycle detected in DAG 'loop': a >> b >> c >> a"


def test_cycle_found_by_check_and_sort_without_a_context() -> None:
    dag = DAG("loop")
    a, b = make_tasks(dag, "a", "b")
    a >> b >> a
    with pytest.raises(CycleError, match="a >> b >> a"):
        dag.check_cycle()
    with pytest.raises(CycleError):
        dag.topological_sort()


def test_schedule_given_twice() -> None:
    with pytest.raises(DagDefinitionError, match="give only one of schedule, schedule_interval"):
        DAG("d", schedule="@daily", schedule_interval="@hourly")


def test_bad_schedule_is_a_definition_error() -> None:
    with pytest.raises(DagDefinitionError, match="DAG 'd': "):
        DAG("d", schedule="every tuesday")


def test_validate_requires_start_date_for_scheduled_dags() -> None:
    with pytest.raises(DagDefinitionError, match="DAG 'd' has a schedule but no start_date"):
        DAG("d", schedule="@daily").validate()
    DAG("manual", schedule=None).validate()
    DAG("dated", schedule="@daily", start_date=START).validate()


def test_validate_accepts_start_dates_on_every_task() -> None:
    dag = DAG("d", schedule="@daily")
    Op(task_id="t", dag=dag, start_date=START)
    dag.validate()


def test_dag_attributes() -> None:
    dag = DAG("d", tags=["b", "a", "b"], max_active_tasks=None, concurrency=4)
    Op(task_id="t1", dag=dag, owner="zoe")
    Op(task_id="t2", dag=dag, owner="al")
    assert dag.tags == ["a", "b"]
    assert dag.max_active_tasks == 4
    assert dag.owner == "al, zoe"
    assert dag.fileloc == __file__
    assert repr(dag) == "<DAG: d>" and repr(dag.get_task("t1")) == "<Task(Op): t1>"
