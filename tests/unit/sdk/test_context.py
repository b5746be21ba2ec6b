"""The template context: every key Airflow 2.10 offers, as Airflow renders it.

Rendered for a run with logical date 2024-01-02T03:04:05Z unless a test says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tradewind.errors import InvalidInput
from tradewind.sdk import DAG, BaseOperator, Dataset, Param
from tradewind.sdk.context import (
    MappingConnectionAccessor,
    MappingVariableAccessor,
    PriorSuccess,
    TemplateConnection,
    build_template_context,
)
from tradewind.sdk.templating import build_jinja_env, render_operator_fields, render_template

LOGICAL = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


class EchoOperator(BaseOperator):
    template_fields = ("command",)

    def __init__(self, *, command: Any = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.command = command


class FakeTI:
    task_id = "echo"
    try_number = 2


class FakeDagRun:
    conf = {"source": "api"}


def make_dag(**kwargs: Any) -> DAG:
    kwargs.setdefault("schedule", "@daily")
    kwargs.setdefault("start_date", datetime(2024, 1, 1))
    return DAG("tpl", **kwargs)


def context_for(task: BaseOperator, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("run_id", "manual__2024-01-02T03:04:05+00:00")
    kwargs.setdefault("logical_date", LOGICAL)
    kwargs.setdefault("data_interval_start", datetime(2024, 1, 1, tzinfo=UTC))
    kwargs.setdefault("data_interval_end", datetime(2024, 1, 2, tzinfo=UTC))
    kwargs.setdefault("ti", FakeTI())
    kwargs.setdefault("dag_run", FakeDagRun())
    return build_template_context(dag=task.dag, task=task, **kwargs)


def render(template: str, dag_kwargs: Any = None, **context: Any) -> Any:
    dag = make_dag(**(dag_kwargs or {}))
    task = EchoOperator(task_id="echo", dag=dag)
    return render_template(template, context_for(task, **context), build_jinja_env(dag))


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ ds }}", "2024-01-02"),
        ("{{ ds_nodash }}", "20240102"),
        ("{{ ts }}", "2024-01-02T03:04:05+00:00"),
        ("{{ ts_nodash }}", "20240102T030405"),
        ("{{ ts_nodash_with_tz }}", "20240102T030405+0000"),
        ("{{ logical_date }}", "2024-01-02 03:04:05+00:00"),
        ("{{ execution_date }}", "2024-01-02 03:04:05+00:00"),
        ("{{ logical_date.year }}-{{ logical_date.hour }}", "2024-3"),
        ("{{ data_interval_start }}", "2024-01-01 00:00:00+00:00"),
        ("{{ data_interval_end }}", "2024-01-02 00:00:00+00:00"),
        ("{{ data_interval_end | ds }}", "2024-01-02"),
        ("{{ logical_date | ds_nodash }}", "20240102"),
        ("{{ logical_date | ts }}", "2024-01-02T03:04:05+00:00"),
        ("{{ logical_date | ts_nodash }}", "20240102T030405"),
        ("{{ logical_date | ts_nodash_with_tz }}", "20240102T030405+0000"),
        ("{{ prev_ds }} {{ next_ds }}", "2024-01-02 2024-01-02"),
        ("{{ prev_ds_nodash }} {{ next_ds_nodash }}", "20240102 20240102"),
        ("{{ prev_execution_date }}", "2024-01-02 03:04:05+00:00"),
        ("{{ yesterday_ds }} {{ yesterday_ds_nodash }}", "2024-01-01 20240101"),
        ("{{ tomorrow_ds }} {{ tomorrow_ds_nodash }}", "2024-01-03 20240103"),
        ("{{ run_id }}", "manual__2024-01-02T03:04:05+00:00"),
        ("{{ dag.dag_id }}/{{ task.task_id }}", "tpl/echo"),
        ("{{ ti.task_id }} {{ task_instance.try_number }}", "echo 2"),
        ("{{ dag_run.conf.source }}", "api"),
        ("{{ task_instance_key_str }}", "tpl__echo__20240102"),
        ("{{ prev_data_interval_start_success }}", "None"),
        ("{{ prev_data_interval_end_success }}", "None"),
        ("{{ prev_start_date_success }} {{ prev_end_date_success }}", "None None"),
        ("{{ prev_execution_date_success }}", "None"),
        ("{{ test_mode }}", "False"),
        ("{{ triggering_dataset_events }}", "{}"),
        ("{{ templates_dict }} {{ map_index_template }}", "None None"),
        ("{{ expanded_ti_count }}", "None"),
        ("{{ inlets }} {{ outlets }}", "[] []"),
        ("{{ macros.ds_add(ds, 5) }}", "2024-01-07"),
        ("{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }}", "02/01/2024"),
        ("{{ (logical_date + macros.timedelta(days=1)) | ds }}", "2024-01-03"),
        ("{{ macros.datetime(2020, 5, 6).strftime('%Y') }}", "2020"),
        ("{{ macros.json.dumps({'a': 1}) }}", '{"a": 1}'),
        ("{{ macros.dateutil.relativedelta.relativedelta(months=1).months }}", "1"),
        ("{{ macros.uuid.UUID(int=0) }}", "00000000-0000-0000-0000-000000000000"),
    ],
)
def test_context_key_renders_as_airflow(template: str, expected: str) -> None:
    assert render(template) == expected


def test_scheduled_run_derives_prev_and_next_from_the_timetable() -> None:
    day = datetime(2024, 1, 2, tzinfo=UTC)
    result = render(
        "{{ prev_ds }} {{ next_ds }} {{ next_execution_date }}",
        run_type="scheduled",
        logical_date=day,
        data_interval_start=day,
        data_interval_end=day + timedelta(days=1),
    )
    assert result == "2024-01-01 2024-01-03 2024-01-03 00:00:00+00:00"


def test_weekday_cron_skips_the_weekend_for_next_ds() -> None:
    friday = datetime(2024, 1, 5, 3, tzinfo=UTC)
    result = render(
        "{{ prev_ds }} {{ next_ds }}",
        dag_kwargs={"schedule": "0 3 * * 1-5"},
        run_type="scheduled",
        logical_date=friday,
        data_interval_start=friday,
        data_interval_end=datetime(2024, 1, 8, 3, tzinfo=UTC),
    )
    assert result == "2024-01-04 2024-01-08"


def test_timedelta_schedule_prev_and_next() -> None:
    start = datetime(2024, 1, 2, 6, tzinfo=UTC)
    result = render(
        "{{ prev_execution_date | ts }} {{ next_execution_date | ts }}",
        dag_kwargs={"schedule": timedelta(hours=6)},
        run_type="scheduled",
        logical_date=start,
        data_interval_start=start,
        data_interval_end=start + timedelta(hours=6),
    )
    assert result == "2024-01-02T00:00:00+00:00 2024-01-02T12:00:00+00:00"


def test_dataset_triggered_run_has_no_prev_or_next() -> None:
    result = render(
        "{{ prev_ds }} {{ next_ds }}",
        dag_kwargs={"schedule": [Dataset("s3://bucket/key")]},
        run_type="dataset_triggered",
    )
    assert result == "None None"


def test_prior_success_keys() -> None:
    prior = PriorSuccess(
        logical_date=datetime(2023, 12, 31),
        data_interval_start=datetime(2023, 12, 31),
        data_interval_end=datetime(2024, 1, 1),
        start_date=datetime(2024, 1, 1, 0, 5),
        end_date=datetime(2024, 1, 1, 0, 7),
    )
    result = render(
        "{{ prev_data_interval_start_success | ds }} {{ prev_data_interval_end_success | ts }} "
        "{{ prev_start_date_success | ts_nodash }} {{ prev_execution_date_success | ds }}",
        prior_success=prior,
    )
    assert result == "2023-12-31 2024-01-01T00:00:00+00:00 20240101T000500 2023-12-31"


def test_naive_logical_date_is_utc_and_interval_defaults_to_it() -> None:
    with make_dag():
        task = EchoOperator(task_id="echo")
    context = build_template_context(
        dag=task.dag, task=task, run_id="r", logical_date=datetime(2024, 1, 2, 3, 4, 5)
    )
    assert context["logical_date"] == LOGICAL
    assert context["data_interval_start"] == context["data_interval_end"] == LOGICAL
    assert context["ti"] is context["task_instance"] is None


def test_extra_keys_win() -> None:
    assert render("{{ ds }} {{ exception }}", extra={"ds": "x", "exception": "boom"}) == ("x boom")


def test_inlets_and_outlets_come_from_the_task() -> None:
    with make_dag():
        task = EchoOperator(
            task_id="echo",
            command="{{ inlets[0].uri }} -> {{ outlets[0].uri }}",
            inlets=[Dataset("s3://in")],
            outlets=Dataset("s3://out"),
        )
    render_operator_fields(task, context_for(task))
    assert task.command == "s3://in -> s3://out"


# -- var, conn, params -----------------------------------------------------------------

VARS = MappingVariableAccessor({"env": "prod", "cfg": '{"region": "eu", "n": [1, 2]}'})
CONNS = MappingConnectionAccessor(
    {
        "warehouse": {
            "conn_type": "postgres",
            "host": "db.local",
            "login": "etl",
            "port": 5432,
            "extra": {"sslmode": "require"},
        }
    }
)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ var.value.env }}", "prod"),
        ("{{ var.value.get('env') }}", "prod"),
        ("{{ var.value.get('missing', 'fallback') }}", "fallback"),
        ("{{ var.json.cfg.region }}", "eu"),
        ("{{ var.json.cfg.n[1] }}", "2"),
        ("{{ var.json.get('missing', {'k': 'v'}).k }}", "v"),
        ("{{ conn.warehouse.host }}:{{ conn.warehouse.port }}", "db.local:5432"),
        ("{{ conn.warehouse.login }} {{ conn.warehouse.conn_type }}", "etl postgres"),
        ("{{ conn.warehouse.extra_dejson.sslmode }}", "require"),
        ("{{ conn.get('warehouse').host }}", "db.local"),
        ("{{ conn.get('nope', {'host': 'h1'}).host }}", "h1"),
    ],
)
def test_var_and_conn_accessors(template: str, expected: str) -> None:
    assert render(template, var=VARS, conn=CONNS) == expected


def test_params_with_conf_override() -> None:
    dag_kwargs = {"params": {"n": Param(3, type="integer"), "label": "x"}}
    assert render("{{ params.n }} {{ params.label }}", dag_kwargs) == "3 x"
    result = render("{{ params.n }} {{ params.extra }}", dag_kwargs, conf={"n": 7, "extra": "e"})
    assert result == "7 e"


def test_task_params_override_dag_params() -> None:
    with make_dag(params={"a": 1, "b": 2}):
        task = EchoOperator(task_id="echo", command="{{ params.a }}{{ params.b }}", params={"b": 9})
    render_operator_fields(task, context_for(task))
    assert task.command == "19"


def test_invalid_conf_is_refused() -> None:
    with make_dag(params={"n": Param(3, type="integer")}):
        task = EchoOperator(task_id="echo")
    with pytest.raises(InvalidInput, match="Invalid value for param 'n'"):
        context_for(task, conf={"n": "seven"})


def test_given_params_are_used_as_is() -> None:
    assert render("{{ params.k }}", params={"k": "given"}) == "given"


def test_accessor_lookups_outside_templates() -> None:
    assert VARS.value.get("env") == "prod"
    assert VARS.json.get("cfg") == {"region": "eu", "n": [1, 2]}
    assert VARS.json.get("missing") is None
    conn = CONNS.get("warehouse")
    assert isinstance(conn, TemplateConnection)
    assert conn.extra == '{"sslmode": "require"}' and conn.schema is None
    assert TemplateConnection("bare").extra_dejson == {}
    assert MappingConnectionAccessor({"obj": conn}).get("obj") is conn


def test_accessors_hide_private_names() -> None:
    with pytest.raises(AttributeError):
        VARS.value.__html__  # noqa: B018
    with pytest.raises(AttributeError):
        CONNS._private  # noqa: B018


def test_context_defaults_to_empty_accessors() -> None:
    task = EchoOperator(task_id="echo", dag=make_dag())
    context = context_for(task)
    assert context["var"].value.get("anything", "d") == "d"
    assert context["conn"].get("anything") is None
