"""Dependencies between tasks, lists, XComArgs and task groups; task group ids."""

from __future__ import annotations

from typing import Any

import pytest

from tradewind.errors import DagDefinitionError
from tradewind.sdk import DAG, BaseOperator, TaskGroup, chain, cross_downstream


class Op(BaseOperator):
    template_fields = ("payload",)

    def __init__(self, *, payload: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.payload = payload


def ids(tasks: Any) -> list[str]:
    return sorted(task.task_id for task in tasks)


def make_tasks(dag: DAG, *names: str) -> list[Op]:
    return [Op(task_id=name, dag=dag) for name in names]


# -- dependencies ----------------------------------------------------------------------


def test_shift_operators() -> None:
    dag = DAG("d")
    a, b, c, d = make_tasks(dag, "a", "b", "c", "d")
    result = a >> b << c
    d.set_upstream(b)
    assert result is c
    assert (b.upstream_task_ids, a.downstream_task_ids) == ({"a", "c"}, {"b"})
    assert ids(b.downstream_list) == ["d"] and ids(d.upstream_list) == ["b"]


def test_lists_on_either_side() -> None:
    dag = DAG("d")
    a, b, c, d, e = make_tasks(dag, "a", "b", "c", "d", "e")
    [a, b] >> c >> [d, e]
    e << [a]
    assert c.upstream_task_ids == {"a", "b"}
    assert c.downstream_task_ids == {"d", "e"}
    assert e.upstream_task_ids == {"a", "c"}


def test_dependency_puts_a_loose_task_in_the_dag() -> None:
    dag = DAG("d")
    (a,) = make_tasks(dag, "a")
    loose = Op(task_id="loose")
    a >> loose
    assert dag.get_task("loose") is loose


def test_dependency_errors() -> None:
    (a,) = make_tasks(DAG("one"), "a")
    (b,) = make_tasks(DAG("two"), "b")
    with pytest.raises(DagDefinitionError, match="more than one DAG: 'one' and 'two'"):
        a >> b
    with pytest.raises(DagDefinitionError, match="'a' cannot depend on itself"):
        a >> a
    with pytest.raises(DagDefinitionError, match="got str"):
        a >> "b"  # type: ignore[operator]


def test_chain() -> None:
    dag = DAG("d")
    a, b, c, d, e, f = make_tasks(dag, "a", "b", "c", "d", "e", "f")
    chain(a, [b, c], [d, e], f)
    assert a.downstream_task_ids == {"b", "c"}
    assert (b.downstream_task_ids, c.downstream_task_ids) == ({"d"}, {"e"})
    assert f.upstream_task_ids == {"d", "e"}


def test_chain_rejects_adjacent_lists_of_unequal_length() -> None:
    dag = DAG("d")
    a, b, c = make_tasks(dag, "a", "b", "c")
    with pytest.raises(DagDefinitionError, match="adjacent lists of different lengths: 2 and 1"):
        chain([a, b], [c])


def test_cross_downstream() -> None:
    dag = DAG("d")
    a, b, c, d, e = make_tasks(dag, "a", "b", "c", "d", "e")
    cross_downstream([a, b], [c, d])
    cross_downstream([c], e)
    assert c.upstream_task_ids == d.upstream_task_ids == {"a", "b"}
    assert e.upstream_task_ids == {"c"}


def test_xcom_arg_in_a_template_field_adds_the_producer_upstream() -> None:
    with DAG("d"):
        producer = Op(task_id="producer")
        other = Op(task_id="other")
        consumer = Op(task_id="consumer", payload={"rows": [producer.output, other.output["k"]]})
        plain = Op(task_id="plain", payload="{{ ds }}")
    assert consumer.upstream_task_ids == {"producer", "other"}
    assert producer.downstream_task_ids == {"consumer"}
    assert plain.upstream_task_ids == set()


def test_xcom_arg_takes_part_in_shift_operators() -> None:
    with DAG("d"):
        a, b = Op(task_id="a"), Op(task_id="b")
        a.output >> b
    assert b.upstream_task_ids == {"a"}


# -- task groups -----------------------------------------------------------------------


def test_task_group_ids_are_prefixed_and_nest() -> None:
    with DAG("d") as dag:
        with TaskGroup("etl") as etl:
            extract = Op(task_id="extract")
            with TaskGroup("load") as load:
                write = Op(task_id="write")
    assert (extract.task_id, write.task_id) == ("etl.extract", "etl.load.write")
    assert (etl.group_id, load.group_id, load.label) == ("etl", "etl.load", "load")
    assert write.label == "write" and write.task_group is load
    assert set(dag.task_group_dict) == {"etl", "etl.load"}
    assert ids(etl.iter_tasks()) == ["etl.extract", "etl.load.write"]


def test_prefix_group_id_false_keeps_labels() -> None:
    with DAG("d") as dag:
        with TaskGroup("outer"):
            with TaskGroup("flat", prefix_group_id=False) as flat:
                Op(task_id="t")
                with TaskGroup("sub"):
                    Op(task_id="u")
    assert flat.group_id == "outer.flat"
    assert sorted(dag.task_ids) == ["sub.u", "t"]


def test_group_dependencies_use_roots_and_leaves() -> None:
    with DAG("d") as dag:
        start = Op(task_id="start")
        with TaskGroup("g") as group:
            a, b, c = Op(task_id="a"), Op(task_id="b"), Op(task_id="c")
            a >> b
        end = Op(task_id="end")
        start >> group >> end
    assert ids(group.roots) == ["g.a", "g.c"]
    assert ids(group.leaves) == ["g.b", "g.c"]
    assert start.downstream_task_ids == {"g.a", "g.c"}
    assert end.upstream_task_ids == {"g.b", "g.c"}
    assert ids(dag.roots) == ["start"] and ids(dag.leaves) == ["end"]
    assert c.upstream_task_ids == {"start"}


def test_group_in_lists_and_reverse_shift() -> None:
    with DAG("d"):
        with TaskGroup("g") as group:
            inside = Op(task_id="inside")
        before, after = Op(task_id="before"), Op(task_id="after")
        [before] >> group
        group << [after]
    assert inside.upstream_task_ids == {"before", "after"}


def test_duplicate_group_id_and_group_outside_a_dag() -> None:
    with DAG("d"):
        TaskGroup("g")
        with pytest.raises(DagDefinitionError, match="group_id 'g' has already been added"):
            TaskGroup("g")
        assert TaskGroup("g", add_suffix_on_collision=True).group_id == "g__1"
    with pytest.raises(DagDefinitionError, match="must be created inside a DAG"):
        TaskGroup("orphan")
    with pytest.raises(DagDefinitionError, match="group_id"):
        TaskGroup("bad id", dag=DAG("x"))
