"""The TaskFlow API: @task (and variants), @dag and @task_group."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest
from taskflow_support import make_dag, run, run_all

from tradewind import DAG, XComArg, task
from tradewind.decorators.python import PythonDecoratedOperator
from tradewind.errors import DagDefinitionError
from tradewind.exceptions import TaskSkipped
from tradewind.operators import PythonOperator
from tradewind.sdk.task_group import TaskGroup

# -- @task ------------------------------------------------------------------------------


def test_bare_task_creates_a_python_operator_named_after_the_function() -> None:
    @task
    def hello() -> str:
        """Say hello."""
        return "hi"

    with make_dag() as d:
        out = hello()
    assert isinstance(out, XComArg)
    op = d.get_task("hello")
    assert out.operator is op
    assert isinstance(op, PythonDecoratedOperator) and isinstance(op, PythonOperator)
    assert op.operator_name == "@task"
    assert op.doc_md == "Say hello."
    assert run(op)[0] == "hi"
    assert hello.function() == "hi"  # the plain function stays reachable


def test_task_with_arguments_passes_them_to_the_operator() -> None:
    @task(task_id="custom", retries=3, pool="small", queue="q", trigger_rule="all_done")
    def work() -> None: ...

    with make_dag() as d:
        work()
    op = d.get_task("custom")
    assert (op.retries, op.pool, op.queue, op.trigger_rule) == (3, "small", "q", "all_done")


def test_xcom_args_become_op_args_and_upstream_dependencies() -> None:
    @task
    def number(n: int) -> int:
        return n

    @task
    def total(values: list[int], extra: dict[str, int]) -> int:
        return sum(values) + extra["k"]

    with make_dag() as d:
        a, b, c = number(1), number(2), number(3)
        result = total([a, b], extra={"k": c})
    op = result.operator
    assert op.upstream_task_ids == {"number", "number__1", "number__2"}
    assert op.op_args == ([a, b],)
    assert op.op_kwargs == {"extra": {"k": c}}
    assert run_all(d)[("total", "return_value")] == 6


def test_override_changes_a_copy() -> None:
    @task(retries=1)
    def work() -> int:
        return 1

    with make_dag() as d:
        work.override(task_id="other", retries=5)()
        work()
    assert d.get_task("other").retries == 5
    assert d.get_task("work").retries == 1


def test_calling_twice_renames_as_airflow_does() -> None:
    @task
    def step() -> None: ...

    with make_dag() as d:
        step()
        step()
        step()
        with TaskGroup("g"):
            step()
            step()
    assert d.task_ids == ["step", "step__1", "step__2", "g.step", "g.step__1"]


def test_explicit_multiple_outputs_pushes_each_key() -> None:
    @task(multiple_outputs=True)
    def split():
        return {"a": 1, "b": 2}

    @task
    def add(a: int, b: int) -> int:
        return a + b

    with make_dag() as d:
        parts = split()
        add(parts["a"], parts["b"])
    assert d.get_task("add").upstream_task_ids == {"split"}
    xcoms = run_all(d)
    assert xcoms[("split", "a")] == 1 and xcoms[("split", "b")] == 2
    assert xcoms[("split", "return_value")] == {"a": 1, "b": 2}
    assert xcoms[("add", "return_value")] == 3


class Totals(TypedDict):
    total: int


def test_multiple_outputs_is_inferred_from_a_mapping_return_annotation() -> None:
    @task
    def as_dict() -> dict[str, int]:
        return {}

    @task
    def as_typed_dict() -> Totals:
        return {"total": 1}

    @task
    def as_list() -> list[int]:
        return []

    @task(multiple_outputs=False)
    def forced_off() -> dict[str, int]:
        return {}

    with make_dag() as d:
        for factory in (as_dict, as_typed_dict, as_list, forced_off):
            factory()
    assert [t.multiple_outputs for t in d.tasks] == [True, True, False, False]


def test_context_parameters_are_filled_by_signature() -> None:
    @task
    def named(x: int, ti: Any = None, ds: str | None = None, params: Any = None) -> Any:
        return [x, ti.task_id, ds, params["p"]]

    @task
    def wildcard(**context: Any) -> Any:
        return sorted(k for k in context if k in {"ti", "ds", "run_id"})

    with DAG("ctx", schedule=None, params={"p": 7}) as d:
        named(1)
        wildcard()
    assert run(d.get_task("named"))[0] == [1, "named", "2024-01-02", 7]
    assert run(d.get_task("wildcard"))[0] == ["ds", "run_id", "ti"]


def test_context_parameter_defaults_other_than_none_are_refused() -> None:
    @task
    def bad(ds: str = "2020-01-01") -> None: ...

    with make_dag(), pytest.raises(DagDefinitionError, match="ds"):
        bad()


def test_arguments_that_do_not_bind_are_refused_at_parse_time() -> None:
    @task
    def one(x: int) -> None: ...

    with make_dag():
        with pytest.raises(DagDefinitionError, match="missing a required argument"):
            one()
        with pytest.raises(DagDefinitionError, match="too many"):
            one(1, 2)


def test_task_python_is_an_alias() -> None:
    @task.python(task_id="aliased")
    def f() -> int:
        return 1

    with make_dag() as d:
        f()
    assert type(d.get_task("aliased")) is PythonDecoratedOperator


def test_task_branch_skips_the_branches_not_returned() -> None:
    @task.branch
    def choose(ds: str | None = None) -> str:
        return "left"

    @task
    def left() -> None: ...

    @task
    def right() -> None: ...

    with make_dag() as d:
        choose() >> [left(), right()]
    op = d.get_task("choose")
    assert op.operator_name == "@task.branch"
    result, ti = run(op)
    assert result == "left" and ti.skipped == ["right"]


def test_task_short_circuit_both_modes() -> None:
    @task.short_circuit
    def never() -> bool:
        return False

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def never_direct() -> bool:
        return False

    @task
    def a() -> None: ...

    @task
    def b() -> None: ...

    with make_dag() as d:
        never() >> a() >> b()
        never_direct() >> a() >> b()
    assert sorted(run(d.get_task("never"))[1].skipped) == ["a", "b"]
    assert run(d.get_task("never_direct"))[1].skipped == ["a__1"]
    assert d.get_task("never").operator_name == "@task.short_circuit"


def test_task_bash_runs_the_returned_command() -> None:
    @task
    def who() -> str:
        return "world"

    @task.bash(env={"GREETING": "hello"})
    def greet(name: str) -> str:
        return f'echo "$GREETING {name}"'

    @task.bash
    def skip() -> str:
        return "exit 99"

    @task.bash
    def empty() -> str:
        return "  "

    with make_dag() as d:
        greet(who())
        skip()
        empty()
    assert d.get_task("greet").upstream_task_ids == {"who"}
    assert d.get_task("greet").operator_name == "@task.bash"
    xcoms: dict[tuple[str, str], Any] = {}
    run(d.get_task("who"), xcoms)
    assert run(d.get_task("greet"), xcoms)[0] == "hello world"
    with pytest.raises(TaskSkipped):
        run(d.get_task("skip"))
    with pytest.raises(TypeError, match="non-empty string"):
        run(d.get_task("empty"))
