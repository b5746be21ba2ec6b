"""serialize_dag / deserialize_dag: every SDK feature survives the trip through JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta

from tradewind.decorators import dag, task, task_group
from tradewind.errors import InvalidInput
from tradewind.operators import (
    BashOperator,
    BranchPythonOperator,
    EmptyOperator,
    PythonOperator,
    ShortCircuitOperator,
)
from tradewind.sdk import DAG, BaseOperator, Dataset, Param, TaskGroup, TriggerRule, WeightRule
from tradewind.sdk.timetables import (
    CronTriggerTimetable,
    DagRunInfo,
    DataInterval,
    TimeRestriction,
    Timetable,
)
from tradewind.serialization import (
    SCHEMA_VERSION,
    SerializedDAG,
    XComArgRef,
    dag_hash,
    deserialize_dag,
    serialize_dag,
)

START = datetime(2024, 1, 1, tzinfo=UTC)


class Templated(BaseOperator):
    """A user operator with template fields of several kinds."""

    template_fields = ("command", "options", "upstream_rows")
    template_ext = (".sql",)
    template_fields_renderers = {"command": "sql"}
    ui_color = "#abcdef"
    custom_operator_name = "Templated!"

    def __init__(
        self, command: str = "", options: Any = None, upstream_rows: Any = None, **kw: Any
    ):
        super().__init__(**kw)
        self.command = command
        self.options = options
        self.upstream_rows = upstream_rows


class EveryMonday(Timetable):
    """A custom timetable with state, as a user would write one."""

    def __init__(self, hour: int = 9) -> None:
        self.hour = hour

    @property
    def summary(self) -> str:
        return f"Mondays at {self.hour}"

    description = "Each Monday"

    def serialize(self) -> dict[str, Any]:
        return {"hour": self.hour}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(data["hour"])

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        return DataInterval.exact(run_after)

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        return None


def round_trip(the_dag: DAG) -> SerializedDAG:
    """Serialize, check the document is strict JSON, and decode it from text."""
    document = serialize_dag(the_dag)
    assert_json_safe(document)
    text = json.dumps(document, allow_nan=False)
    restored = deserialize_dag(json.loads(text))
    assert restored == deserialize_dag(document)
    return restored


def assert_json_safe(value: Any, path: str = "$") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str, f"{path}: key {key!r}"
            assert_json_safe(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_json_safe(item, f"{path}[{i}]")
    else:
        assert value is None or type(value) in (str, int, float, bool), f"{path}: {value!r}"


def on_anything(context: dict[str, Any]) -> None: ...


def build_rich_dag() -> DAG:
    """One DAG using every DAG-level and task-level argument."""
    with DAG(
        "rich",
        description="All the features",
        schedule="0 6 * * 1-5",
        start_date=datetime(2024, 3, 1, tzinfo=ZoneInfo("Europe/Paris")),
        end_date=datetime(2030, 1, 1),
        catchup=False,
        default_args={"owner": "data", "retries": 2, "retry_delay": timedelta(minutes=1)},
        params={
            "n": Param(3, "How many rows", type="integer", minimum=1),
            "mode": Param("fast", enum=["fast", "slow"]),
            "required": Param(type="string"),
            "plain": 7,
        },
        tags=["b", "a"],
        doc_md="# Rich\nDocs",
        max_active_runs=2,
        max_active_tasks=8,
        dagrun_timeout=timedelta(hours=1),
        on_success_callback=on_anything,
        on_failure_callback=[on_anything],
        render_template_as_native_obj=True,
        template_searchpath="/opt/templates",
        access_control={"Viewer": {"can_read"}},
        is_paused_upon_creation=False,
        owner_links={"data": "mailto:data@example.com"},
        dag_display_name="Rich DAG",
        default_view="graph",
        orientation="TB",
    ) as the_dag:
        first = Templated(
            task_id="first",
            command="SELECT {{ ds }}",
            options={"when": START, "every": timedelta(minutes=5), "ids": {3, 1, 2}},
            owner="alice",
            email=["a@example.com", "b@example.com"],
            retries=5,
            retry_delay=30,
            retry_exponential_backoff=True,
            max_retry_delay=timedelta(minutes=10),
            execution_timeout=timedelta(seconds=90),
            trigger_rule="all_done",
            wait_for_downstream=True,
            priority_weight=10,
            weight_rule="upstream",
            queue="fast",
            pool="db",
            pool_slots=2,
            executor_config={"cpu": 2, "labels": ("x", "y")},
            do_xcom_push=False,
            multiple_outputs=True,
            max_active_tis_per_dag=3,
            max_active_tis_per_dagrun=1,
            on_execute_callback=on_anything,
            on_retry_callback=on_anything,
            on_skipped_callback=on_anything,
            doc_md="first **task**",
            doc="plain doc",
            inlets=[Dataset("s3://in/raw")],
            outlets=[Dataset("s3://out/clean"), "not a dataset"],
            task_display_name="The first",
            executor="LocalExecutor",
            params={"limit": Param(10, type="integer")},
        )
        second = Templated(task_id="second", upstream_rows=first.output["rows"])
        first >> second
    return the_dag


def test_rich_dag_fields_survive() -> None:
    s = round_trip(build_rich_dag())
    assert (s.dag_id, s.dag_display_name, s.description) == ("rich", "Rich DAG", "All the features")
    assert s.fileloc == __file__
    assert s.start_date == datetime(2024, 2, 29, 23, 0, tzinfo=UTC)
    assert s.end_date == datetime(2030, 1, 1, tzinfo=UTC)
    assert s.timezone == "Europe/Paris"
    assert s.catchup is False
    assert s.tags == ("a", "b")
    assert s.owners == ("alice", "data") and s.owner == "alice, data"
    assert s.doc_md == "# Rich\nDocs"
    assert (s.max_active_runs, s.max_active_tasks) == (2, 8)
    assert s.dagrun_timeout == timedelta(hours=1)
    assert s.render_template_as_native_obj is True
    assert s.has_on_success_callback and s.has_on_failure_callback
    assert s.access_control == {"Viewer": {"can_read"}}
    assert s.is_paused_upon_creation is False
    assert (s.default_view, s.orientation) == ("graph", "TB")
    assert s.owner_links == {"data": "mailto:data@example.com"}
    assert s.template_searchpath == ("/opt/templates",)
    assert s.schedule_interval == {"__type": "CronExpression", "value": "0 6 * * 1-5"}
    assert s.timetable == build_rich_dag().timetable
    assert s.timetable_summary == "0 6 * * 1-5" and s.timetable_description
    assert s.has_task_concurrency_limits


def test_rich_task_fields_survive() -> None:
    first = round_trip(build_rich_dag()).get_task("first")
    assert (first.task_type, first.task_module) == ("Templated", __name__)
    record = serialize_dag(build_rich_dag())["dag"]["tasks"][0]
    assert (record["_task_type"], record["_task_module"]) == ("Templated", __name__)
    assert first.class_ref == {"class_name": "Templated", "module_path": __name__}
    assert first.operator_name == "Templated!"
    assert (first.owner, first.email) == ("alice", ("a@example.com", "b@example.com"))
    assert (first.retries, first.retry_delay) == (5, timedelta(seconds=30))
    assert first.retry_exponential_backoff and first.max_retry_delay == timedelta(minutes=10)
    assert first.execution_timeout == timedelta(seconds=90)
    assert first.trigger_rule is TriggerRule.ALL_DONE
    assert first.depends_on_past and first.wait_for_downstream
    assert (first.priority_weight, first.weight_rule) == (10, WeightRule.UPSTREAM)
    assert (first.queue, first.pool, first.pool_slots) == ("fast", "db", 2)
    assert first.executor_config == {"cpu": 2, "labels": ("x", "y")}
    assert first.executor == "LocalExecutor"
    assert not first.do_xcom_push and first.multiple_outputs
    assert (first.max_active_tis_per_dag, first.max_active_tis_per_dagrun) == (3, 1)
    assert first.template_fields == ("command", "options", "upstream_rows")
    assert first.template_ext == (".sql",)
    assert first.template_fields_renderers == {"command": "sql"}
    assert (first.ui_color, first.ui_fgcolor) == ("#abcdef", "#000")
    assert (first.doc_md, first.doc) == ("first **task**", "plain doc")
    assert first.task_display_name == first.display_name == "The first"
    assert first.has_on_execute_callback and first.has_on_retry_callback
    assert first.has_on_skipped_callback
    assert not first.has_on_success_callback and not first.has_on_failure_callback
    assert (first.inlets, first.outlets) == (("s3://in/raw",), ("s3://out/clean",))
    assert first.params["limit"].value == 10
    assert first.start_date == datetime(2024, 2, 29, 23, 0, tzinfo=UTC)
    assert first.is_mapped is False and first.inherits_from_empty_operator is False
    assert first.downstream_task_ids == ("second",)


def test_template_values_are_tagged_json() -> None:
    s = round_trip(build_rich_dag())
    values = s.get_task("first").template_values
    assert values["command"] == "SELECT {{ ds }}"
    assert values["options"]["when"] == {"__type": "datetime", "value": START.isoformat()}
    assert values["options"]["ids"] == {"__type": "set", "items": [1, 2, 3]}
    second = s.get_task("second")
    assert second.template_values["upstream_rows"] == {
        "__type": "xcomarg",
        "task_id": "first",
        "key": "rows",
    }
    assert second.upstream_task_ids == ("first",)


def test_default_args_reach_tasks() -> None:
    second = round_trip(build_rich_dag()).get_task("second")
    assert (second.owner, second.retries, second.retry_delay) == (
        "data",
        2,
        timedelta(minutes=1),
    )


def test_task_records_leave_out_defaults() -> None:
    with DAG("small", schedule=None) as the_dag:
        EmptyOperator(task_id="only")
    (record,) = serialize_dag(the_dag)["dag"]["tasks"]
    assert "retries" not in record and "pool" not in record and "trigger_rule" not in record
    only = round_trip(the_dag).get_task("only")
    assert (only.retries, only.pool, only.trigger_rule) == (0, "default_pool", "all_success")
    assert only.retry_delay == timedelta(seconds=300)


def test_params_resolve_on_the_serialized_form() -> None:
    s = round_trip(build_rich_dag())
    assert s.params["n"].description == "How many rows"
    assert dict(s.params["n"].schema) == {"type": "integer", "minimum": 1}
    assert s.params["required"].has_default is False
    resolved = s.resolve_params({"required": "yes", "n": 4})
    assert resolved == {"n": 4, "mode": "fast", "required": "yes", "plain": 7}
    with pytest.raises(InvalidInput, match="required"):
        s.resolve_params({})
    with pytest.raises(InvalidInput, match="'n'"):
        s.resolve_params({"required": "x", "n": 0})


def test_nested_task_groups_and_prefix_off() -> None:
    with DAG("groups", schedule=None) as the_dag:
        start = EmptyOperator(task_id="start")
        with TaskGroup("outer", tooltip="Outer group", ui_color="#111", ui_fgcolor="#eee") as outer:
            a = EmptyOperator(task_id="a")
            with TaskGroup("inner", default_args={"retries": 4}):
                b = EmptyOperator(task_id="b")
            with TaskGroup("flat", prefix_group_id=False):
                c = EmptyOperator(task_id="c")
        start >> outer
        a >> b >> c
    s = round_trip(the_dag)
    assert s.task_ids == ["start", "outer.a", "outer.inner.b", "c"]
    root = s.task_group
    assert root.is_root and root.children == (("task", "start"), ("group", "outer"))
    outer_g = s.task_group_dict["outer"]
    assert (outer_g.label, outer_g.tooltip, outer_g.ui_color, outer_g.ui_fgcolor) == (
        "outer",
        "Outer group",
        "#111",
        "#eee",
    )
    assert outer_g.child_task_ids == ["outer.a"]
    assert outer_g.child_group_ids == ["outer.inner", "outer.flat"]
    inner = s.task_group_dict["outer.inner"]
    assert (inner.label, inner.parent_group_id, inner.child_task_ids) == (
        "inner",
        "outer",
        ["outer.inner.b"],
    )
    flat = s.task_group_dict["outer.flat"]
    assert flat.prefix_group_id is False and flat.child_task_ids == ["c"]
    assert s.get_task("c").task_group_id == "outer.flat"
    assert s.get_task("outer.inner.b").retries == 4
    assert s.get_task("outer.a").label == "a"
    assert s.get_task("outer.a").upstream_task_ids == ("start",)


def _schedules() -> list[tuple[str, Any, Any]]:
    cases: list[tuple[str, Any, Any]] = [
        ("none", None, None),
        ("once", "@once", {"__type": "CronExpression", "value": "@once"}),
        ("continuous", "@continuous", {"__type": "CronExpression", "value": "@continuous"}),
        ("cron", "*/5 * * * *", {"__type": "CronExpression", "value": "*/5 * * * *"}),
        ("preset", "@hourly", {"__type": "CronExpression", "value": "@hourly"}),
        (
            "timedelta",
            timedelta(hours=6),
            {"__type": "TimeDelta", "days": 0, "seconds": 21600, "microseconds": 0},
        ),
        ("custom", EveryMonday(7), {"__type": "CronExpression", "value": "Mondays at 7"}),
        (
            "cron_trigger",
            CronTriggerTimetable("0 1 * * *", interval=timedelta(hours=1)),
            {"__type": "CronExpression", "value": "0 1 * * *"},
        ),
        ("dataset", [Dataset("s3://a")], {"__type": "CronExpression", "value": "Dataset"}),
    ]
    return cases


@pytest.mark.parametrize(
    ("schedule", "expected"), [c[1:] for c in _schedules()], ids=[c[0] for c in _schedules()]
)
def test_each_schedule_kind(schedule: Any, expected: Any) -> None:
    with DAG("scheduled", schedule=schedule, start_date=START) as the_dag:
        EmptyOperator(task_id="t")
    s = round_trip(the_dag)
    assert s.schedule_interval == expected
    assert s.timetable == the_dag.timetable
    assert type(s.timetable) is type(the_dag.timetable)
    assert s.timetable_summary == the_dag.timetable.summary
    assert s.timetable_description == the_dag.timetable.description


def test_relativedelta_schedule() -> None:
    with DAG("monthly", schedule=relativedelta(months=1), start_date=START) as the_dag:
        EmptyOperator(task_id="t")
    s = round_trip(the_dag)
    assert s.schedule_interval is not None
    assert s.schedule_interval["__type"] == "RelativeDelta"
    assert s.schedule_interval["months"] == 1 and s.schedule_interval["days"] == 0
    assert s.timetable == the_dag.timetable


def test_dataset_condition_schedule() -> None:
    a, b, c = Dataset("s3://a"), Dataset("s3://b"), Dataset("s3://c")
    with DAG("on_data", schedule=(a | b) & c, start_date=START) as the_dag:
        EmptyOperator(task_id="t", outlets=[Dataset("s3://d")])
    s = round_trip(the_dag)
    assert s.is_dataset_triggered
    assert s.dataset_expression == {"all": [{"any": ["s3://a", "s3://b"]}, "s3://c"]}
    assert s.dataset_uris == ("s3://a", "s3://b", "s3://c")
    assert s.get_task("t").outlets == ("s3://d",)


def test_builtin_operators_and_decorators() -> None:
    @dag(schedule=None, start_date=START)
    def flow(n: int = 3) -> None:
        @task
        def extract() -> dict[str, int]:
            return {"a": 1}

        @task.branch
        def choose(rows: Any) -> str:
            return "load"

        @task.short_circuit
        def gate() -> bool:
            return True

        @task_group
        def per_row(rows: Any) -> Any:
            @task
            def each(row: Any) -> Any:
                return row

            return each(rows)

        rows = extract()
        load = BashOperator(task_id="load", bash_command="echo {{ ds }}", env={"N": "1"})
        EmptyOperator(task_id="done")
        PythonOperator(task_id="py", python_callable=print, op_kwargs={"rows": rows, "n": n})
        BranchPythonOperator(task_id="classic_branch", python_callable=lambda: "done")
        ShortCircuitOperator(task_id="classic_gate", python_callable=lambda: True)
        choose(rows) >> gate() >> load
        per_row(rows)

    s = round_trip(flow())
    kinds = {t.task_id: (t.task_type, t.operator_name) for t in s.tasks}
    assert kinds["extract"][1] == "@task"
    assert kinds["choose"][1] == "@task.branch"
    assert kinds["gate"][1] == "@task.short_circuit"
    assert kinds["load"] == ("BashOperator", "BashOperator")
    assert kinds["classic_branch"][0] == "BranchPythonOperator"
    assert kinds["classic_gate"][0] == "ShortCircuitOperator"
    assert s.get_task("done").inherits_from_empty_operator
    assert s.get_task("load").template_values["bash_command"] == "echo {{ ds }}"
    assert s.get_task("load").template_fields_renderers["bash_command"] == "bash"
    py_kwargs = s.get_task("py").template_values["op_kwargs"]
    assert py_kwargs["rows"] == {"__type": "xcomarg", "task_id": "extract", "key": "return_value"}
    assert py_kwargs["n"]["__type"] == "dag_param"
    assert s.get_task("per_row.each").task_group_id == "per_row"
    assert set(s.get_task("extract").downstream_task_ids) == {"choose", "py", "per_row.each"}
    assert s.params["n"].value == 3
    assert XComArgRef("extract") == XComArgRef("extract", "return_value")


def test_hash_is_stable_and_sees_changes() -> None:
    first, again = serialize_dag(build_rich_dag()), serialize_dag(build_rich_dag())
    assert dag_hash(first) == dag_hash(again)
    reordered = json.loads(json.dumps(first, sort_keys=True))
    assert dag_hash(reordered) == dag_hash(first)
    changed = build_rich_dag()
    changed.get_task("second").retries = 9
    assert dag_hash(serialize_dag(changed)) != dag_hash(first)


def test_unknown_version_is_refused() -> None:
    document = serialize_dag(build_rich_dag())
    document["__version"] = SCHEMA_VERSION + 1
    with pytest.raises(InvalidInput, match="schema version 2.*reads only version 1"):
        deserialize_dag(document)
    with pytest.raises(InvalidInput, match="__version"):
        deserialize_dag({"dag": {}})


def test_malformed_document_is_refused() -> None:
    document = serialize_dag(build_rich_dag())
    del document["dag"]["timetable"]
    with pytest.raises(InvalidInput, match="'rich' is invalid: 'timetable' must be"):
        deserialize_dag(document)
    document = serialize_dag(build_rich_dag())
    del document["dag"]["dag_id"]
    with pytest.raises(InvalidInput, match="'\\?' is malformed"):
        deserialize_dag(document)
    document = serialize_dag(build_rich_dag())
    document["dag"]["tasks"][0]["trigger_rule"] = "sometimes"
    with pytest.raises(InvalidInput, match="'rich'"):
        deserialize_dag(document)


def test_timetable_from_unimportable_user_code_is_decoded_only_on_use() -> None:
    # The API server never imports user code: it reads the summary stored beside it.
    with DAG("custom", schedule=EveryMonday(8), start_date=START) as the_dag:
        EmptyOperator(task_id="t")
    document = serialize_dag(the_dag)
    document["dag"]["timetable"]["__type"] = "dags_folder_only.plugins.Missing"
    s = deserialize_dag(document)
    assert s.timetable_summary == "Mondays at 8" and s.timetable_description == "Each Monday"
    assert s.schedule_interval == {"__type": "CronExpression", "value": "Mondays at 8"}
    with pytest.raises(InvalidInput, match="cannot be imported"):
        s.timetable


def test_unknown_keys_are_ignored_for_rolling_upgrades() -> None:
    document = serialize_dag(build_rich_dag())
    document["dag"]["added_later"] = 1
    document["dag"]["tasks"][0]["also_added_later"] = True
    assert deserialize_dag(document) == deserialize_dag(serialize_dag(build_rich_dag()))
