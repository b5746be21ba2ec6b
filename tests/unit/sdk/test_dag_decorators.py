"""The TaskFlow API's @dag and @task_group decorators, and the package's public surface."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from typing import Any

import pytest
from taskflow_support import make_dag, run_all

import tradewind
from tradewind import DAG, dag, task, task_group
from tradewind.errors import CycleError, DagDefinitionError
from tradewind.sdk.params import DagParam
from tradewind.sdk.task_group import TaskGroup

# -- @dag -------------------------------------------------------------------------------


def test_dag_decorator_builds_a_validated_dag_with_params() -> None:
    @dag(schedule=None, start_date=datetime(2024, 1, 1), tags=["t"])
    def pipeline(size: int = 3, label: str = "x"):
        """The pipeline's docs."""

        @task
        def make(n: int) -> list[int]:
            return list(range(n))

        @task
        def count(values: list[int], label: str) -> str:
            return f"{label}:{len(values)}"

        count(make(size), label)

    d = pipeline()
    assert isinstance(d, DAG)
    assert d.dag_id == "pipeline"
    assert d.doc_md == "The pipeline's docs."
    assert d.tags == ["t"]
    assert dict(d.params) == {"size": 3, "label": "x"}
    make_op = d.get_task("make")
    assert isinstance(make_op.op_args[0], DagParam)
    assert d.fileloc == __file__
    assert run_all(d)[("count", "return_value")] == "x:3"
    # a run's conf overrides the params, and the DagParams follow
    assert run_all(d, size=5, label="y")[("count", "return_value")] == "y:5"
    # calling with an argument sets that param's default
    assert dict(pipeline(size=10).params)["size"] == 10


def test_dag_decorator_options() -> None:
    @dag("explicit_id", schedule=None, doc_md="given docs")
    def ignored_name():
        """Not used: doc_md was given."""

    @dag
    def bare():  # daily by default: the task's start_date makes it valid
        task(task_id="t", start_date=datetime(2024, 1, 1))(lambda: None)()

    @dag(schedule=None)
    def needs_arg(x):
        pass

    d = ignored_name()
    assert (d.dag_id, d.doc_md) == ("explicit_id", "given docs")
    assert bare().dag_id == "bare"
    with pytest.raises(TypeError):
        needs_arg()


def test_dag_decorator_validates() -> None:
    @dag(schedule="@daily")
    def no_start():
        task(task_id="t")(lambda: None)()

    with pytest.raises(DagDefinitionError, match="start_date"):
        no_start()

    @dag(schedule=None)
    def cyclic():
        @task
        def a() -> None: ...

        first, second = a(), a()
        first >> second >> first

    with pytest.raises(CycleError):
        cyclic()


def test_dag_param_resolves_and_formats_as_a_template() -> None:
    param = DagParam("size", 3)
    assert param.resolve({"params": {"size": 4}}) == 4
    assert param.resolve({"params": {}}) == 3
    assert str(param) == "{{ params.size }}"
    assert str(DagParam("my-param")) == "{{ params['my-param'] }}"
    with pytest.raises(Exception, match="No value"):
        DagParam("missing").resolve({})


# -- @task_group ------------------------------------------------------------------------


def test_task_group_chains_as_a_whole() -> None:
    @task
    def extract() -> int:
        return 1

    @task
    def load() -> None: ...

    @task
    def step() -> None: ...

    @task_group
    def middle():
        """Two parallel steps."""
        step()
        step()

    with make_dag() as d:
        group = middle()
        extract() >> group >> load()
        second = middle()
    assert isinstance(group, TaskGroup)
    assert group.group_id == "middle" and group.tooltip == "Two parallel steps."
    assert second.group_id == "middle__1"
    assert d.get_task("middle.step").upstream_task_ids == {"extract"}
    assert d.get_task("middle.step__1").upstream_task_ids == {"extract"}
    assert d.get_task("load").upstream_task_ids == {"middle.step", "middle.step__1"}


def test_task_group_returns_the_body_result_and_nests() -> None:
    @task
    def double(n: int) -> int:
        return n * 2

    @task_group(group_id="outer", tooltip="given")
    def outer(n: Any):
        return inner(double(n))

    @task_group
    def inner(n: Any):
        return double(n)

    @task
    def done(n: int) -> int:
        return n

    with make_dag() as d:
        done(outer(3))
        inner.override(group_id="renamed")(1)
    assert d.task_group_dict["outer"].tooltip == "given"
    assert "outer.inner" in d.task_group_dict and "renamed" in d.task_group_dict
    assert d.get_task("done").upstream_task_ids == {"outer.inner.double"}
    assert run_all(d)[("done", "return_value")] == 12


# -- the package surface ----------------------------------------------------------------


def test_public_names() -> None:
    for name in ("DAG", "dag", "task", "task_group", "TaskGroup", "Param", "Dataset", "chain"):
        assert hasattr(tradewind, name)
    assert {"cross_downstream", "BaseOperator", "XComArg", "__version__"} <= set(dir(tradewind))


def test_importing_tradewind_is_cheap() -> None:
    code = (
        "import sys, tradewind; "
        "print(sorted(m for m in ('jinja2', 'jsonschema', 'sqlalchemy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
