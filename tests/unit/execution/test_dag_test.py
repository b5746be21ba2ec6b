"""run_dag_in_process / run_single_task: whole DAG runs in this process."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from execution_support import FrozenClock

from tradewind import DAG, Param, task
from tradewind.errors import InvalidInput, NotFound
from tradewind.execution.dag_test import (
    DagTestResult,
    TaskReport,
    run_dag_in_process,
    run_single_task,
)
from tradewind.execution.memory import InMemoryXComStore
from tradewind.operators import (
    BashOperator,
    BranchPythonOperator,
    EmptyOperator,
    PythonOperator,
    ShortCircuitOperator,
)
from tradewind.sdk.exceptions import TaskSkipped
from tradewind.sdk.states import DagRunState, TaskInstanceState

S = TaskInstanceState
DATE = datetime(2024, 1, 1, tzinfo=UTC)


def make_dag(dag_id: str = "d", **kwargs: Any) -> DAG:
    return DAG(dag_id, schedule=None, start_date=DATE, **kwargs)


def run(dag: DAG, tmp_path: Path, clock: FrozenClock | None = None, **kwargs: Any) -> DagTestResult:
    clock = clock or FrozenClock()
    return run_dag_in_process(
        dag, logical_date=DATE, log_folder=tmp_path, clock=clock, sleep=clock.sleep, **kwargs
    )


def fail() -> None:
    raise ValueError("boom")


def ok_value() -> int:
    return 1


def test_chain_passes_in_order(tmp_path: Path) -> None:
    seen: list[str] = []
    with make_dag() as dag:
        a = PythonOperator(task_id="a", python_callable=lambda: seen.append("a") or 1)
        b = PythonOperator(task_id="b", python_callable=lambda: seen.append("b") or 2)
        c = PythonOperator(task_id="c", python_callable=lambda: seen.append("c") or 3)
        a >> b >> c
    result = run(dag, tmp_path)
    assert result.state == DagRunState.SUCCESS and result.succeeded
    assert seen == ["a", "b", "c"]
    assert result.task_states == {"a": S.SUCCESS, "b": S.SUCCESS, "c": S.SUCCESS}
    assert result.tries == {"a": 1, "b": 1, "c": 1}
    assert result.xcoms["c"] == {"return_value": 3}
    assert result.run_id == "manual__2024-01-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("rule", "upstream_fails", "expected"),
    [
        ("all_success", False, S.SUCCESS),
        ("all_success", True, S.UPSTREAM_FAILED),
        ("one_failed", True, S.SUCCESS),
        ("one_failed", False, S.SKIPPED),
        ("all_done", True, S.SUCCESS),
        ("none_failed_min_one_success", False, S.SUCCESS),
        ("none_failed_min_one_success", True, S.UPSTREAM_FAILED),
    ],
)
def test_fan_in_trigger_rules(rule: str, upstream_fails: bool, expected: S, tmp_path: Path) -> None:
    with make_dag() as dag:
        ok = EmptyOperator(task_id="ok")
        other = PythonOperator(
            task_id="other", python_callable=fail if upstream_fails else ok_value
        )
        join = EmptyOperator(task_id="join", trigger_rule=rule)
        [ok, other] >> join
    result = run(dag, tmp_path)
    assert result.task_states["join"] == expected


def test_none_failed_min_one_success_with_all_skipped_upstream_skips(tmp_path: Path) -> None:
    def skip() -> None:
        raise TaskSkipped()

    with make_dag() as dag:
        a = PythonOperator(task_id="a", python_callable=skip)
        join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
        a >> join
    assert run(dag, tmp_path).task_states == {"a": S.SKIPPED, "join": S.SKIPPED}


def test_branching_with_join(tmp_path: Path) -> None:
    with make_dag() as dag:
        branch = BranchPythonOperator(task_id="branch", python_callable=lambda: "left")
        left = EmptyOperator(task_id="left")
        right = EmptyOperator(task_id="right")
        after_right = EmptyOperator(task_id="after_right")
        join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
        branch >> [left, right]
        right >> after_right
        [left, after_right] >> join
    result = run(dag, tmp_path)
    assert result.task_states == {
        "branch": S.SUCCESS,
        "left": S.SUCCESS,
        "right": S.SKIPPED,
        "after_right": S.SKIPPED,
        "join": S.SUCCESS,
    }
    assert result.state == DagRunState.SUCCESS


def test_short_circuit_skips_everything_downstream(tmp_path: Path) -> None:
    with make_dag() as dag:
        check = ShortCircuitOperator(task_id="check", python_callable=lambda: False)
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b", trigger_rule="all_done")
        check >> a >> b
    result = run(dag, tmp_path)
    assert result.task_states == {"check": S.SUCCESS, "a": S.SKIPPED, "b": S.SKIPPED}
    assert result.state == DagRunState.SUCCESS


def test_retries_until_success_waiting_the_retry_delay(tmp_path: Path) -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ValueError(f"attempt {len(calls)}")
        return "finally"

    with make_dag() as dag:
        PythonOperator(task_id="flaky", python_callable=flaky, retries=2, retry_delay=30)
    clock = FrozenClock()
    reports: list[TaskReport] = []
    result = run(dag, tmp_path, clock, on_report=reports.append)
    assert result.task_states["flaky"] == S.SUCCESS
    assert result.tries["flaky"] == 3
    assert clock.slept == [30.0, 30.0]
    assert [(r.state, r.try_number) for r in reports] == [
        (S.UP_FOR_RETRY, 1),
        (S.UP_FOR_RETRY, 2),
        (S.SUCCESS, 3),
    ]
    assert reports[0].error == "ValueError: attempt 1"
    log_dir = tmp_path / "dag_id=d" / f"run_id={result.run_id}" / "task_id=flaky"
    assert sorted(p.name for p in log_dir.iterdir()) == [
        "attempt=1.log",
        "attempt=2.log",
        "attempt=3.log",
    ]


def test_retries_work_with_a_sleep_that_does_not_move_the_clock(tmp_path: Path) -> None:
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("once")

    with make_dag() as dag:
        PythonOperator(task_id="t", python_callable=flaky, retries=1, retry_delay=5)
    result = run_dag_in_process(
        dag, logical_date=DATE, clock=FrozenClock(), sleep=lambda seconds: None
    )
    assert result.task_states["t"] == S.SUCCESS


def test_upstream_failed_propagates_and_fails_the_run(tmp_path: Path) -> None:
    with make_dag() as dag:
        a = PythonOperator(task_id="a", python_callable=fail)
        b = EmptyOperator(task_id="b")
        c = EmptyOperator(task_id="c")
        cleanup = EmptyOperator(task_id="cleanup", trigger_rule="all_done")
        a >> b >> c
        a >> cleanup
    result = run(dag, tmp_path)
    assert result.task_states == {
        "a": S.FAILED,
        "b": S.UPSTREAM_FAILED,
        "c": S.UPSTREAM_FAILED,
        "cleanup": S.SUCCESS,
    }
    assert result.state == DagRunState.FAILED
    assert result.tries["b"] == 0


def test_failed_non_leaf_with_successful_leaves_is_success(tmp_path: Path) -> None:
    with make_dag() as dag:
        a = PythonOperator(task_id="a", python_callable=fail)
        EmptyOperator(task_id="handler", trigger_rule="one_failed").set_upstream(a)
    assert run(dag, tmp_path).state == DagRunState.SUCCESS


def test_taskflow_xcom_passing(tmp_path: Path) -> None:
    with make_dag() as dag:

        @task
        def extract() -> dict[str, int]:
            return {"a": 1, "b": 2}

        @task(multiple_outputs=True)
        def transform(data: dict[str, int]) -> dict[str, int]:
            return {"total": sum(data.values()), "count": len(data)}

        @task
        def load(total: int, count: int) -> str:
            return f"{total}/{count}"

        parts = transform(extract())
        load(parts["total"], parts["count"])
    result = run(dag, tmp_path)
    assert result.state == DagRunState.SUCCESS
    assert result.xcoms["transform"]["total"] == 3
    assert result.xcoms["load"] == {"return_value": "3/2"}


def test_templated_bash_operator(tmp_path: Path) -> None:
    with make_dag(params={"x": Param(1, type="integer")}) as dag:
        BashOperator(task_id="echo", bash_command="echo {{ ds }} {{ params.x }}")
    result = run(dag, tmp_path, conf={"x": 7})
    assert result.xcoms["echo"]["return_value"] == "2024-01-01 7"
    log = tmp_path / "dag_id=d" / f"run_id={result.run_id}" / "task_id=echo" / "attempt=1.log"
    assert "2024-01-01 7" in log.read_text()


def test_bad_conf_is_rejected_before_anything_runs(tmp_path: Path) -> None:
    ran: list[int] = []
    with make_dag(params={"x": Param(1, type="integer")}) as dag:
        PythonOperator(task_id="t", python_callable=lambda: ran.append(1))
    with pytest.raises(InvalidInput, match="x"):
        run(dag, tmp_path, conf={"x": "not a number"})
    with pytest.raises(InvalidInput):
        run(dag, tmp_path, conf=["not", "a", "dict"])  # type: ignore[arg-type]
    assert ran == []


def test_log_has_the_lines_a_user_expects(tmp_path: Path) -> None:
    with make_dag() as dag:
        PythonOperator(task_id="hello", python_callable=lambda: print("hi there") or 42)
    result = run(dag, tmp_path)
    text = (result.reports[0].log_path or Path()).read_text()
    assert "Executing <Task(PythonOperator): hello> on 2024-01-01 00:00:00+00:00" in text
    assert "INFO - hi there" in text
    assert "Done. Returned value was: 42" in text
    assert (
        "Marking task as SUCCESS. dag_id=d, task_id=hello, "
        "run_id=manual__2024-01-01T00:00:00+00:00, execution_date=20240101T000000, "
        "start_date=20240101T000000, end_date=20240101T000000"
    ) in text


def test_failure_log_has_the_traceback(tmp_path: Path) -> None:
    with make_dag() as dag:
        PythonOperator(task_id="bad", python_callable=fail)
    result = run(dag, tmp_path)
    text = (result.reports[0].log_path or Path()).read_text()
    assert "ERROR - Task failed with exception" in text
    assert "Traceback (most recent call last)" in text and "ValueError: boom" in text
    assert "Marking task as FAILED." in text


def test_secrets_from_variables_and_connections_are_masked(tmp_path: Path) -> None:
    def leak(var: Any, conn: Any) -> None:
        print("key is", var.value.service_api_key, "region", var.value.region)
        print("db password", conn.warehouse.password)

    with make_dag() as dag:
        PythonOperator(task_id="leak", python_callable=leak)
    console = io.StringIO()
    result = run(
        dag,
        tmp_path,
        variables={"service_api_key": "sk-live-123456", "region": "eu-west-1"},
        connections={"warehouse": {"host": "db", "login": "u", "password": "pg-pass-789"}},
        echo=True,
        console=console,
    )
    assert result.state == DagRunState.SUCCESS
    text = (result.reports[0].log_path or Path()).read_text()
    assert "key is *** region eu-west-1" in text
    assert "db password ***" in text
    assert "sk-live-123456" not in console.getvalue() + text
    assert "pg-pass-789" not in console.getvalue() + text


def test_run_single_task_ignores_upstream_and_records_nothing(tmp_path: Path) -> None:
    with make_dag(params={"x": Param(1, type="integer")}) as dag:
        up = PythonOperator(task_id="up", python_callable=fail)
        down = PythonOperator(
            task_id="down",
            python_callable=lambda params, ti: (params["x"], ti.xcom_pull(task_ids="up")),
        )
        up >> down
    console = io.StringIO()
    report = run_single_task(
        dag, "down", logical_date=DATE, task_params={"x": 5}, clock=FrozenClock(), console=console
    )
    assert report.state == S.SUCCESS
    assert report.return_value == (5, None)
    assert report.log_path is None
    assert "Marking task as SUCCESS" in console.getvalue()
    with pytest.raises(NotFound):
        run_single_task(dag, "missing", logical_date=DATE, clock=FrozenClock(), echo=False)


def test_xcom_store_is_shared_and_reported(tmp_path: Path) -> None:
    store = InMemoryXComStore()
    with make_dag() as dag:
        PythonOperator(task_id="t", python_callable=lambda: "v")
    result = run(dag, tmp_path, xcom_store=store)
    assert store.for_run("d", result.run_id) == {"t": {"return_value": "v"}}


def test_context_has_run_details(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def look(**context: Any) -> None:
        seen.update(context)

    with make_dag() as dag:
        PythonOperator(task_id="t", python_callable=look)
    run(dag, tmp_path, conf={"k": "v"})
    assert seen["dag_run"].conf == {"k": "v"}
    assert seen["ds"] == "2024-01-01"
    assert seen["ti"].try_number == 1
    assert seen["data_interval_start"] == DATE and seen["data_interval_end"] == DATE
    assert seen["logical_date"] == DATE


def test_retry_delay_can_be_exponential(tmp_path: Path) -> None:
    with make_dag() as dag:
        PythonOperator(
            task_id="t",
            python_callable=fail,
            retries=2,
            retry_delay=timedelta(seconds=10),
            retry_exponential_backoff=True,
        )
    clock = FrozenClock()
    result = run(dag, tmp_path, clock)
    assert result.tries["t"] == 3 and result.task_states["t"] == S.FAILED
    assert 10 <= clock.slept[0] < 20 and 20 <= clock.slept[1] < 40
