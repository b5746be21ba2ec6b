"""Rendering template fields: errors, native objects, template files, macros, XComArgs."""

from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import pytest

from tradewind.errors import InvalidInput
from tradewind.sdk import DAG, BaseOperator
from tradewind.sdk.context import (
    MappingConnectionAccessor,
    MappingVariableAccessor,
    build_template_context,
)
from tradewind.sdk.templating import (
    TemplateRenderError,
    build_jinja_env,
    compile_template,
    precompile_templates,
    render_operator_fields,
    render_template,
)

LOGICAL = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


class EchoOperator(BaseOperator):
    template_fields = ("command", "env")
    template_ext = (".sql",)

    def __init__(self, *, command: Any = "", env: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.command = command
        self.env = env


class FakeTI:
    """Just enough of a running task instance for templates and XComArgs."""

    def __init__(self, task_id: str, xcoms: dict[tuple[str, str], Any] | None = None) -> None:
        self.task_id = task_id
        self.xcoms = xcoms or {}

    def xcom_pull(self, task_ids: str, key: str = "return_value", **_: Any) -> Any:
        return self.xcoms.get((task_ids, key))


def make_dag(tmp_path: Path, **kwargs: Any) -> DAG:
    kwargs.setdefault("schedule", "@daily")
    kwargs.setdefault("start_date", datetime(2024, 1, 1))
    return DAG("tpl", fileloc=str(tmp_path / "tpl_dag.py"), **kwargs)


def context_for(task: BaseOperator, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("run_id", "manual__2024-01-02T03:04:05+00:00")
    kwargs.setdefault("logical_date", LOGICAL)
    kwargs.setdefault("data_interval_start", datetime(2024, 1, 1, tzinfo=UTC))
    kwargs.setdefault("data_interval_end", datetime(2024, 1, 2, tzinfo=UTC))
    kwargs.setdefault("ti", FakeTI(task.task_id))
    return build_template_context(dag=task.dag, task=task, **kwargs)


def render(tmp_path: Path, template: Any, dag_kwargs: Any = None, **context: Any) -> Any:
    with make_dag(tmp_path, **(dag_kwargs or {})):
        task = EchoOperator(task_id="echo", command=template)
    render_operator_fields(task, context_for(task, **context))
    return task.command


# -- errors --------------------------------------------------------------------------


def test_undefined_variable_names_task_and_field(tmp_path: Path) -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render(tmp_path, "echo {{ nope }}")
    error = caught.value
    assert (
        str(error)
        == "Could not render template field 'command' of task 'echo': 'nope' is undefined"
    )
    assert (error.task_id, error.field) == ("echo", "command")
    assert isinstance(error, InvalidInput)
    assert isinstance(error.__cause__, jinja2.UndefinedError)


def test_undefined_attribute_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateRenderError, match="has no attribute 'missing'"):
        render(tmp_path, "{{ dag_run.missing }}")


def test_syntax_error_names_task_field_and_line(tmp_path: Path) -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render(tmp_path, "line one\n{{ ds ")
    assert str(caught.value).startswith(
        "Could not render template field 'command' of task 'echo': syntax error (line 2):"
    )


def test_template_undefined_can_be_lenient(tmp_path: Path) -> None:
    assert render(tmp_path, "[{{ nope }}]", {"template_undefined": jinja2.Undefined}) == "[]"


def test_missing_template_field_attribute(tmp_path: Path) -> None:
    class Broken(BaseOperator):
        template_fields = ("nowhere",)

    with make_dag(tmp_path):
        task = Broken(task_id="broken")
    with pytest.raises(TemplateRenderError, match="Broken has no attribute of that name"):
        render_operator_fields(task, context_for(task))


def test_sandbox_blocks_dunder_attributes(tmp_path: Path) -> None:
    with pytest.raises(TemplateRenderError, match="unsafe"):
        render(tmp_path, "{{ ''.__class__.__mro__ }}")


def test_sandbox_allows_single_underscore_attributes(tmp_path: Path) -> None:
    assert render(tmp_path, "{{ task._own_task_id }}") == "echo"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ var.value.missing }}", "Variable 'missing' does not exist"),
        ("{{ var.json.missing }}", "Variable 'missing' does not exist"),
        ("{{ conn.missing.host }}", "The conn_id 'missing' isn't defined"),
    ],
)
def test_missing_var_or_conn_names_task_and_field(
    tmp_path: Path, template: str, message: str
) -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render(tmp_path, template, var=MappingVariableAccessor(), conn=MappingConnectionAccessor())
    assert str(caught.value) == (
        f"Could not render template field 'command' of task 'echo': {message}"
    )


# -- native rendering, files, user macros and filters ------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ [1, 2] + [params.n] }}", [1, 2, 3]),
        ("{{ {'n': params.n, 'ds': ds} }}", {"n": 3, "ds": "2024-01-02"}),
        ("{{ params.n }}", 3),
        ("plain text", "plain text"),
    ],
)
def test_native_rendering_returns_python_objects(
    tmp_path: Path, template: str, expected: Any
) -> None:
    dag_kwargs = {"render_template_as_native_obj": True, "params": {"n": 3}}
    assert render(tmp_path, template, dag_kwargs) == expected


def test_string_rendering_is_the_default(tmp_path: Path) -> None:
    assert render(tmp_path, "{{ [1, 2] }}") == "[1, 2]"


def test_native_flag_can_be_overridden(tmp_path: Path) -> None:
    dag = make_dag(tmp_path, render_template_as_native_obj=True)
    env = build_jinja_env(dag, native=False)
    assert render_template("{{ [1] }}", {}, env) == "[1]"
    assert render_template("{{ [1] }}", {}, build_jinja_env(dag)) == [1]


def test_template_file_from_dag_folder(tmp_path: Path) -> None:
    (tmp_path / "query.sql").write_text("SELECT * FROM t WHERE ds = '{{ ds }}'")
    assert render(tmp_path, "query.sql") == "SELECT * FROM t WHERE ds = '2024-01-02'"


def test_template_file_from_searchpath(tmp_path: Path) -> None:
    sql_dir = tmp_path / "elsewhere"
    sql_dir.mkdir()
    (sql_dir / "other.sql").write_text("-- {{ ts_nodash }}")
    dag_kwargs = {"template_searchpath": str(sql_dir)}
    assert render(tmp_path, "other.sql", dag_kwargs) == "-- 20240102T030405"


def test_dag_folder_wins_over_searchpath(tmp_path: Path) -> None:
    (tmp_path / "q.sql").write_text("folder")
    sql_dir = tmp_path / "elsewhere"
    sql_dir.mkdir()
    (sql_dir / "q.sql").write_text("searchpath")
    assert render(tmp_path, "q.sql", {"template_searchpath": [str(sql_dir)]}) == "folder"


def test_missing_template_file(tmp_path: Path) -> None:
    with pytest.raises(TemplateRenderError, match="template file 'missing.sql' not found"):
        render(tmp_path, "missing.sql")


def test_only_template_ext_strings_are_files(tmp_path: Path) -> None:
    assert render(tmp_path, "cat query.txt") == "cat query.txt"


def test_user_defined_macros_and_filters(tmp_path: Path) -> None:
    dag_kwargs = {
        "user_defined_macros": {"project": "acme", "double": lambda x: x * 2},
        "user_defined_filters": {"shout": lambda s: s.upper() + "!"},
    }
    result = render(tmp_path, "{{ project | shout }} {{ double(21) }}", dag_kwargs)
    assert result == "ACME! 42"


def test_jinja_environment_kwargs(tmp_path: Path) -> None:
    dag_kwargs = {
        "jinja_environment_kwargs": {"variable_start_string": "[[", "variable_end_string": "]]"}
    }
    assert render(tmp_path, "[[ ds ]] {{ ds }}", dag_kwargs) == "2024-01-02 {{ ds }}"


def test_do_extension_is_enabled(tmp_path: Path) -> None:
    assert render(tmp_path, "{% set xs = [] %}{% do xs.append(ds) %}{{ xs[0] }}") == "2024-01-02"


def test_environment_is_cached_per_dag(tmp_path: Path) -> None:
    first, second = make_dag(tmp_path), make_dag(tmp_path)
    assert build_jinja_env(first) is build_jinja_env(first)
    assert build_jinja_env(first) is not build_jinja_env(second)
    assert build_jinja_env(None) is build_jinja_env(None)


def test_a_dags_templates_are_compiled_once_and_ahead_of_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a forker does on import, so that tries render without compiling."""
    (tmp_path / "query.sql").write_text("select {{ ds }}")
    with make_dag(tmp_path) as dag:
        task = EchoOperator(task_id="echo", command=["echo {{ ds }}", "query.sql"], env={"N": 1})
        EchoOperator(task_id="broken", command="{{ oops")
    precompile_templates(dag)  # the malformed one is left for its try to report
    env = build_jinja_env(dag)
    compiled = compile_template(env, "echo {{ ds }}")
    assert compile_template(env, "echo {{ ds }}") is compiled

    def no_compiling(source: str) -> jinja2.Template:
        raise AssertionError(f"compiled {source!r} again")

    monkeypatch.setattr(env, "from_string", no_compiling)
    render_operator_fields(task, context_for(task))
    assert task.command == ["echo 2024-01-02", "select 2024-01-02"]
    monkeypatch.undo()
    with pytest.raises(TemplateRenderError, match="syntax error"):
        render_operator_fields(dag.get_task("broken"), context_for(task))


def test_task_without_dag_renders_with_the_default_environment() -> None:
    task = EchoOperator(task_id="loose", command="{{ x }}-{{ when | ds }}")
    render_operator_fields(task, {"x": 1, "when": LOGICAL})
    assert task.command == "1-2024-01-02"


# -- structures and XComArgs -----------------------------------------------------------

Pair = namedtuple("Pair", "left right")


class Nested:
    template_fields = ("sql",)

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.untouched = "{{ ds }}"


def test_nested_structures_are_rendered(tmp_path: Path) -> None:
    (tmp_path / "part.sql").write_text("part {{ ds_nodash }}")
    nested = Nested("{{ ds }}")
    value = {
        "list": ["{{ ds }}", 1, None, ("{{ ts_nodash }}", LOGICAL)],
        "set": {"{{ ds_nodash }}"},
        "pair": Pair("{{ ds }}", 2),
        "file": ["part.sql"],
        "obj": nested,
    }
    result = render(tmp_path, value)
    assert result == {
        "list": ["2024-01-02", 1, None, ("20240102T030405", LOGICAL)],
        "set": {"20240102"},
        "pair": Pair("2024-01-02", 2),
        "file": ["part 20240102"],
        "obj": nested,
    }
    assert type(result["pair"]) is Pair
    assert (nested.sql, nested.untouched) == ("2024-01-02", "{{ ds }}")


def test_dict_keys_are_not_rendered(tmp_path: Path) -> None:
    assert render(tmp_path, {"{{ ds }}": "{{ ds }}"}) == {"{{ ds }}": "2024-01-02"}


def test_xcom_args_are_pulled_and_not_rendered_again(tmp_path: Path) -> None:
    with make_dag(tmp_path):
        producer = EchoOperator(task_id="producer")
        consumer = EchoOperator(
            task_id="consumer",
            command=producer.output,
            env={"A": producer.output["path"], "B": ["{{ ds }}", producer.output]},
        )
    ti = FakeTI(
        "consumer",
        {("producer", "return_value"): "{{ ds }} stays", ("producer", "path"): "/tmp/x"},
    )
    render_operator_fields(consumer, context_for(consumer, ti=ti))
    assert consumer.command == "{{ ds }} stays"
    assert consumer.env == {"A": "/tmp/x", "B": ["2024-01-02", "{{ ds }} stays"]}
    assert consumer.upstream_task_ids == {"producer"}
