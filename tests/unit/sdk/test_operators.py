"""Built-in operators, executed directly with an in-memory ``ti`` (no task runner)."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from taskflow_support import RUN_ID, make_dag, run

from tradewind import DAG, TaskGroup
from tradewind.exceptions import AirflowException, TaskSkipped
from tradewind.operators import (
    BashOperator,
    BranchPythonOperator,
    EmptyOperator,
    PythonOperator,
    ShortCircuitOperator,
)

# -- EmptyOperator ----------------------------------------------------------------------


def test_empty_operator_is_marked_for_the_scheduler() -> None:
    with make_dag():
        task = EmptyOperator(task_id="nothing")
    assert task.inherits_from_empty_operator is True
    assert task.ui_color == "#e8f7e4"
    assert run(task)[0] is None


# -- PythonOperator ---------------------------------------------------------------------


def test_python_operator_passes_args_and_only_the_context_keys_asked_for() -> None:
    seen: dict[str, Any] = {}

    def fn(a: int, b: int, ds: str, ti: Any, c: int = 0) -> int:
        seen.update(ds=ds, ti=ti)
        return a + b + c

    with make_dag():
        task = PythonOperator(
            task_id="add", python_callable=fn, op_args=[1], op_kwargs={"b": 2, "c": 3}
        )
    result, ti = run(task)
    assert result == 6
    assert seen == {"ds": "2024-01-02", "ti": ti}
    assert ti.xcoms[("add", "return_value")] == 6


def test_python_operator_gives_everything_to_var_keyword() -> None:
    with make_dag():
        task = PythonOperator(
            task_id="ctx",
            python_callable=lambda **context: sorted(context),
            op_kwargs={"extra": 1},
            templates_dict={"query": "select 1"},
        )
    keys = run(task)[0]
    assert {"ti", "ds", "run_id", "params", "extra", "templates_dict", "logical_date"} <= set(keys)


def test_python_operator_gives_templates_dict_when_asked() -> None:
    with make_dag():
        task = PythonOperator(
            task_id="t",
            python_callable=lambda templates_dict: templates_dict["q"],
            templates_dict={"q": "rendered"},
        )
    assert run(task)[0] == "rendered"


def test_python_operator_rejects_positional_arg_shadowing_a_context_key() -> None:
    with make_dag():
        task = PythonOperator(task_id="t", python_callable=lambda ds: ds, op_args=["x"])
    with pytest.raises(ValueError, match="'ds' in args"):
        run(task)


def test_python_operator_needs_a_callable() -> None:
    with make_dag(), pytest.raises(AirflowException, match="callable"):
        PythonOperator(task_id="t", python_callable="not callable")  # type: ignore[arg-type]


def test_python_operator_template_fields_and_xcom_dependencies() -> None:
    with make_dag():
        up = PythonOperator(task_id="up", python_callable=lambda: 41)
        down = PythonOperator(
            task_id="down", python_callable=lambda x: x + 1, op_kwargs={"x": up.output}
        )
    assert PythonOperator.template_fields == ("templates_dict", "op_args", "op_kwargs")
    assert down.upstream_task_ids == {"up"}
    xcoms: dict[tuple[str, str], Any] = {}
    run(up, xcoms)
    assert run(down, xcoms)[0] == 42


def test_python_operator_accepts_and_ignores_provide_context() -> None:
    with make_dag():
        task = PythonOperator(task_id="t", python_callable=lambda: 1, provide_context=True)
    assert run(task)[0] == 1


def test_python_operator_can_hide_its_return_value(caplog: pytest.LogCaptureFixture) -> None:
    with make_dag():
        task = PythonOperator(
            task_id="t", python_callable=lambda: "secret", show_return_value_in_logs=False
        )
    with caplog.at_level(logging.INFO, logger="tradewind.task"):
        run(task)
    assert "secret" not in caplog.text
    assert "Returned value not shown" in caplog.text


# -- BranchPythonOperator ---------------------------------------------------------------


def _branch_dag(choice: Any) -> tuple[DAG, BranchPythonOperator]:
    with make_dag() as dag:
        branch = BranchPythonOperator(task_id="branch", python_callable=lambda: choice)
        a, b, c = (EmptyOperator(task_id=name) for name in ("a", "b", "c"))
        join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
        branch >> [a, b, c] >> join
        after_a = EmptyOperator(task_id="after_a")
        a >> after_a
    return dag, branch


@pytest.mark.parametrize(
    ("choice", "skipped"),
    [("a", ["b", "c"]), (["a", "c"], ["b"]), (None, ["a", "b", "c"]), (("b",), ["a", "c"])],
)
def test_branch_skips_the_direct_downstream_tasks_not_chosen(
    choice: Any, skipped: list[str]
) -> None:
    _, branch = _branch_dag(choice)
    result, ti = run(branch)
    assert result == choice
    assert sorted(ti.skipped) == skipped
    assert ti.xcoms[("branch", "skipmixin_key")] == {
        "followed": sorted({"a", "b", "c"} - set(skipped))
    }


def test_branch_does_not_skip_a_join_downstream_of_the_chosen_branch() -> None:
    with make_dag():
        branch = BranchPythonOperator(task_id="branch", python_callable=lambda: "work")
        work = EmptyOperator(task_id="work")
        join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
        other = EmptyOperator(task_id="other")
        branch >> [work, join, other]
        work >> join
    assert sorted(run(branch)[1].skipped) == ["other"]


def test_branch_to_a_task_group_follows_its_roots() -> None:
    with make_dag():
        branch = BranchPythonOperator(task_id="branch", python_callable=lambda: "group")
        with TaskGroup("group") as group:
            first = EmptyOperator(task_id="first")
            first >> EmptyOperator(task_id="second")
        other = EmptyOperator(task_id="other")
        branch >> [group, other]
    assert run(branch)[1].skipped == ["other"]


def test_branch_rejects_unknown_ids_and_non_strings() -> None:
    _, branch = _branch_dag("nope")
    with pytest.raises(AirflowException, match="nope"):
        run(branch)
    _, branch = _branch_dag([1])
    with pytest.raises(AirflowException, match="strings"):
        run(branch)
    _, branch = _branch_dag(3.5)
    with pytest.raises(AirflowException, match="Iterable"):
        run(branch)


# -- ShortCircuitOperator ---------------------------------------------------------------


def _short_circuit_dag(value: Any, ignore: bool) -> ShortCircuitOperator:
    with make_dag():
        gate = ShortCircuitOperator(
            task_id="gate", python_callable=lambda: value, ignore_downstream_trigger_rules=ignore
        )
        gate >> EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
        gate >> EmptyOperator(task_id="c")
    return gate


def test_short_circuit_falsy_skips_everything_downstream() -> None:
    result, ti = run(_short_circuit_dag(0, ignore=True))
    assert result == 0
    assert sorted(ti.skipped) == ["a", "b", "c"]


def test_short_circuit_without_ignoring_rules_skips_direct_downstream_only() -> None:
    _, ti = run(_short_circuit_dag([], ignore=False))
    assert sorted(ti.skipped) == ["a", "c"]
    assert ti.xcoms[("gate", "skipmixin_key")] == {"skipped": ["a", "c"]}


def test_short_circuit_truthy_skips_nothing() -> None:
    result, ti = run(_short_circuit_dag("go", ignore=True))
    assert result == "go"
    assert ti.skipped == []


# -- BashOperator -----------------------------------------------------------------------


def _bash(**kwargs: Any) -> BashOperator:
    with make_dag():
        return BashOperator(task_id="bash", **kwargs)


def test_bash_pushes_the_last_line_and_logs_every_line(caplog: pytest.LogCaptureFixture) -> None:
    task = _bash(bash_command="echo first; echo second >&2; echo last")
    with caplog.at_level(logging.INFO, logger="tradewind.task"):
        result, ti = run(task)
    assert result == "last"
    assert ti.xcoms[("bash", "return_value")] == "last"
    messages = [record.getMessage() for record in caplog.records]
    assert ["first", "second", "last"] == [m for m in messages if m in {"first", "second", "last"}]


def test_bash_streams_output_before_the_command_ends() -> None:
    seen_at: list[float] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "early":
                seen_at.append(time.monotonic())

    handler = Recorder()
    logger = logging.getLogger("tradewind.task")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        started = time.monotonic()
        run(_bash(bash_command="echo early; sleep 1; echo late"))
        ended = time.monotonic()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert seen_at and seen_at[0] - started < (ended - started) - 0.5


def test_bash_non_zero_exit_fails_with_the_code() -> None:
    with pytest.raises(AirflowException, match="non-zero exit code 3"):
        run(_bash(bash_command="exit 3"))


def test_bash_skip_exit_code() -> None:
    with pytest.raises(TaskSkipped):
        run(_bash(bash_command="exit 99"))
    with pytest.raises(TaskSkipped):
        run(_bash(bash_command="exit 5", skip_on_exit_code=[5, 6]))
    with pytest.raises(AirflowException, match="code 99"):
        run(_bash(bash_command="exit 99", skip_on_exit_code=None))


def test_bash_env_replaces_or_appends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TW_FROM_WORKER", "worker")
    command = 'echo "${TW_FROM_WORKER:-none}-${TW_GIVEN:-none}-$AIRFLOW_CTX_DAG_RUN_ID"'
    assert run(_bash(bash_command=command, env={"TW_GIVEN": "given"}))[0] == (
        f"none-given-{RUN_ID}"
    )
    appended = _bash(bash_command=command, env={"TW_GIVEN": "given"}, append_env=True)
    assert run(appended)[0] == f"worker-given-{RUN_ID}"
    assert run(_bash(bash_command=command))[0] == f"worker-none-{RUN_ID}"


def test_bash_context_variables() -> None:
    result, _ = run(_bash(bash_command='echo "$AIRFLOW_CTX_DAG_ID.$AIRFLOW_CTX_TASK_ID"'))
    assert result == "test.bash"


def test_bash_cwd(tmp_path: Path) -> None:
    assert run(_bash(bash_command="pwd", cwd=str(tmp_path)))[0] == str(tmp_path)
    assert run(_bash(bash_command="pwd"))[0] != os.getcwd()  # a fresh temporary directory
    with pytest.raises(AirflowException, match="Can not find the cwd"):
        run(_bash(bash_command="pwd", cwd=str(tmp_path / "missing")))
    (tmp_path / "file").write_text("")
    with pytest.raises(AirflowException, match="must be a directory"):
        run(_bash(bash_command="pwd", cwd=str(tmp_path / "file")))


def test_bash_template_declarations() -> None:
    assert BashOperator.template_fields == ("bash_command", "env", "cwd")
    assert BashOperator.template_ext == (".sh", ".bash")


def test_bash_on_kill_kills_the_process_group(tmp_path: Path) -> None:
    task = _bash(bash_command="sleep 30 & echo $! > child.pid; wait", cwd=str(tmp_path))
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run(task)
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    pid_file = tmp_path / "child.pid"
    deadline = time.monotonic() + 10
    # The pid file can be written before Popen has returned and the operator holds the
    # process (a loaded machine): wait for both, or on_kill has nothing to kill yet.
    while time.monotonic() < deadline and not (
        pid_file.exists() and pid_file.read_text().strip() and task._process is not None
    ):
        time.sleep(0.02)
    child = int(pid_file.read_text())
    task.on_kill()
    thread.join(10)
    assert not thread.is_alive()
    assert errors and isinstance(errors[0], AirflowException)  # killed: non-zero exit
    assert _wait_until_gone(child)
    task.on_kill()  # already finished: a no-op


def _wait_until_gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie nobody reaped in a container counts)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return True
        if stat.rsplit(")", 1)[1].split()[0] in {"Z", "X"}:
            return True
        time.sleep(0.02)
    return False
