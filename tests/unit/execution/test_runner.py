"""run_task_try: states, callbacks, XCom pushes and execution_timeout."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from execution_support import START, FrozenClock

from tradewind.execution.memory import LocalTaskInstance
from tradewind.execution.runner import run_task_try
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.exceptions import SensorTimeout, TaskFailed, TaskSkipped
from tradewind.sdk.states import TaskInstanceState

MakeTI = Callable[..., LocalTaskInstance]


class CallOp(BaseOperator):
    """Runs ``func(context)``; ``greeting`` is templated."""

    template_fields = ("greeting",)

    def __init__(self, func: Callable[[dict[str, Any]], Any], greeting: str = "", **kw: Any):
        super().__init__(**kw)
        self.func = func
        self.greeting = greeting

    def execute(self, context: dict[str, Any]) -> Any:
        return self.func(context)


def run(task: BaseOperator, make_ti: MakeTI, clock: FrozenClock, try_number: int = 1, **ctx: Any):
    ti = make_ti(task, try_number=try_number)
    context = {"ti": ti, "task_instance": ti, "logical_date": START, "params": {}, **ctx}
    return run_task_try(task, context=context, ti=ti, clock=clock), ti


def raise_(error: Exception) -> Callable[[dict[str, Any]], Any]:
    def func(context: dict[str, Any]) -> Any:
        raise error

    return func


def test_success_pushes_return_value(make_ti: MakeTI, clock: FrozenClock) -> None:
    outcome, ti = run(CallOp(lambda c: {"n": 1}, task_id="t"), make_ti, clock)
    assert outcome.state == TaskInstanceState.SUCCESS
    assert outcome.return_value == {"n": 1}
    assert outcome.error is None and outcome.next_retry_at is None
    assert outcome.start_date == START and outcome.duration == 0.0
    assert ti.xcom_pull(task_ids="t") == {"n": 1}


def test_multiple_outputs_push_one_xcom_per_key(make_ti: MakeTI, clock: FrozenClock) -> None:
    task = CallOp(lambda c: {"a": 1, "b": 2}, task_id="t", multiple_outputs=True)
    _, ti = run(task, make_ti, clock)
    assert ti.xcom_pull(task_ids="t", key="a") == 1
    assert ti.xcom_pull(task_ids="t", key="b") == 2
    assert ti.xcom_pull(task_ids="t") == {"a": 1, "b": 2}


def test_multiple_outputs_needs_a_dict(make_ti: MakeTI, clock: FrozenClock) -> None:
    outcome, _ = run(CallOp(lambda c: [1], task_id="t", multiple_outputs=True), make_ti, clock)
    assert outcome.state == TaskInstanceState.FAILED
    assert "expected dictionary for multiple_outputs" in (outcome.error or "")


def test_do_xcom_push_false_pushes_nothing(make_ti: MakeTI, clock: FrozenClock) -> None:
    outcome, ti = run(CallOp(lambda c: 5, task_id="t", do_xcom_push=False), make_ti, clock)
    assert outcome.return_value == 5
    assert ti.xcom_pull(task_ids="t") is None


def test_none_return_pushes_nothing(make_ti: MakeTI, clock: FrozenClock) -> None:
    _, ti = run(CallOp(lambda c: None, task_id="t"), make_ti, clock)
    assert ti.xcom_store.find(dag_id=ti.dag_id, run_id="run1") == []


def test_skip(make_ti: MakeTI, clock: FrozenClock) -> None:
    outcome, _ = run(CallOp(raise_(TaskSkipped("nothing to do")), task_id="t"), make_ti, clock)
    assert outcome.state == TaskInstanceState.SKIPPED
    assert outcome.error is None


@pytest.mark.parametrize("error", [TaskFailed("bad"), SensorTimeout("late")])
def test_fail_fast_errors_ignore_retries(
    error: Exception, make_ti: MakeTI, clock: FrozenClock
) -> None:
    outcome, _ = run(CallOp(raise_(error), task_id="t", retries=3), make_ti, clock)
    assert outcome.state == TaskInstanceState.FAILED
    assert outcome.next_retry_at is None


def test_error_with_retries_left_is_up_for_retry(make_ti: MakeTI, clock: FrozenClock) -> None:
    task = CallOp(raise_(ValueError("boom")), task_id="t", retries=1, retry_delay=60)
    outcome, _ = run(task, make_ti, clock)
    assert outcome.state == TaskInstanceState.UP_FOR_RETRY
    assert outcome.error == "ValueError: boom"
    assert "Traceback" in (outcome.traceback or "") and "boom" in (outcome.traceback or "")
    assert outcome.next_retry_at == START + timedelta(seconds=60)


def test_error_on_last_try_fails(make_ti: MakeTI, clock: FrozenClock) -> None:
    task = CallOp(raise_(ValueError("boom")), task_id="t", retries=1)
    outcome, _ = run(task, make_ti, clock, try_number=2)
    assert outcome.state == TaskInstanceState.FAILED


def test_render_error_fails_the_try(make_ti: MakeTI, clock: FrozenClock) -> None:
    outcome, _ = run(CallOp(lambda c: 1, greeting="{{ nope }}", task_id="t"), make_ti, clock)
    assert outcome.state == TaskInstanceState.FAILED
    assert "greeting" in (outcome.error or "")


def test_templates_render_on_a_copy(make_ti: MakeTI, clock: FrozenClock) -> None:
    task = CallOp(lambda c: c["task"].greeting, greeting="hi {{ who }}", task_id="t")
    outcome, _ = run(task, make_ti, clock, who="there")
    assert outcome.return_value == "hi there"
    assert outcome.rendered_fields == {"greeting": "hi there"}
    assert task.greeting == "hi {{ who }}"


def test_execution_timeout_in_main_thread(make_ti: MakeTI, clock: FrozenClock) -> None:
    killed: list[bool] = []

    class Sleepy(CallOp):
        def on_kill(self) -> None:
            killed.append(True)

    task = Sleepy(lambda c: time.sleep(5), task_id="t", execution_timeout=timedelta(seconds=1))
    started = time.monotonic()
    outcome, _ = run(task, make_ti, clock)
    assert time.monotonic() - started < 3
    assert outcome.state == TaskInstanceState.FAILED
    assert (outcome.error or "").startswith("TaskTimeout")
    assert killed == [True]


def test_execution_timeout_is_retried(make_ti: MakeTI, clock: FrozenClock) -> None:
    task = CallOp(
        lambda c: time.sleep(5), task_id="t", retries=1, execution_timeout=timedelta(seconds=1)
    )
    outcome, _ = run(task, make_ti, clock)
    assert outcome.state == TaskInstanceState.UP_FOR_RETRY


def test_execution_timeout_outside_main_thread(make_ti: MakeTI, clock: FrozenClock) -> None:
    task = CallOp(lambda c: time.sleep(3), task_id="t", execution_timeout=timedelta(seconds=0.5))
    found: list[Any] = []
    worker = threading.Thread(target=lambda: found.append(run(task, make_ti, clock)[0]))
    worker.start()
    worker.join(10)
    assert found[0].state == TaskInstanceState.FAILED
    assert found[0].error.startswith("TaskTimeout")


def test_fast_task_under_timeout_succeeds(make_ti: MakeTI, clock: FrozenClock) -> None:
    task = CallOp(lambda c: "ok", task_id="t", execution_timeout=timedelta(seconds=5))
    outcome, _ = run(task, make_ti, clock)
    assert outcome.return_value == "ok"


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[str] = []
        self.fail = fail

    def __call__(self, name: str) -> Callable[[dict[str, Any]], None]:
        def callback(context: dict[str, Any]) -> None:
            self.calls.append(name)
            if self.fail:
                raise RuntimeError(f"{name} broke")

        return callback


@pytest.mark.parametrize("fail", [False, True])
@pytest.mark.parametrize(
    ("func", "retries", "expected_state", "expected_calls"),
    [
        (lambda c: 1, 0, TaskInstanceState.SUCCESS, ["execute", "success"]),
        (raise_(ValueError("x")), 0, TaskInstanceState.FAILED, ["execute", "failure"]),
        (raise_(ValueError("x")), 1, TaskInstanceState.UP_FOR_RETRY, ["execute", "retry"]),
        (raise_(TaskSkipped()), 0, TaskInstanceState.SKIPPED, ["execute", "skipped"]),
    ],
)
def test_callbacks_run_once_and_never_change_the_outcome(
    func: Any,
    retries: int,
    expected_state: TaskInstanceState,
    expected_calls: list[str],
    fail: bool,
    make_ti: MakeTI,
    clock: FrozenClock,
) -> None:
    rec = Recorder(fail=fail)
    task = CallOp(
        func,
        task_id="t",
        retries=retries,
        on_execute_callback=rec("execute"),
        on_success_callback=rec("success"),
        on_failure_callback=[rec("failure")],
        on_retry_callback=rec("retry"),
        on_skipped_callback=rec("skipped"),
    )
    outcome, _ = run(task, make_ti, clock)
    assert outcome.state == expected_state
    assert rec.calls == expected_calls


def test_failure_callback_sees_the_exception(make_ti: MakeTI, clock: FrozenClock) -> None:
    seen: list[Any] = []
    task = CallOp(
        raise_(ValueError("why")),
        task_id="t",
        on_failure_callback=lambda c: seen.append(c["exception"]),
    )
    run(task, make_ti, clock)
    assert isinstance(seen[0], ValueError)


def test_skip_requests_are_reported(make_ti: MakeTI, clock: FrozenClock) -> None:
    task = CallOp(lambda c: c["ti"].skip_tasks(["x", "y"]), task_id="t")
    outcome, _ = run(task, make_ti, clock)
    assert outcome.skipped_task_ids == frozenset({"x", "y"})


def test_xcoms_of_an_earlier_try_are_cleared(make_ti: MakeTI, clock: FrozenClock) -> None:
    def push_then_fail(context: dict[str, Any]) -> None:
        assert context["ti"].xcom_pull(task_ids="t", key="partial") is None
        context["ti"].xcom_push("partial", 1)
        raise ValueError("x")

    task = CallOp(push_then_fail, task_id="t", retries=1)
    first, ti = run(task, make_ti, clock)
    assert ti.xcom_pull(task_ids="t", key="partial") == 1
    second, _ = run(task, make_ti, clock, try_number=2)
    assert second.error == "ValueError: x"


def test_an_outer_alarm_is_kept(make_ti: MakeTI, clock: FrozenClock) -> None:
    import signal

    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    outer = signal.setitimer(signal.ITIMER_REAL, 100)
    try:
        task = CallOp(lambda c: "ok", task_id="t", execution_timeout=timedelta(seconds=5))
        run(task, make_ti, clock)
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 90 < remaining <= 100
        # An outer alarm due before the task's timeout reaches its own handler.
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        slow = CallOp(lambda c: time.sleep(0.5) or "done", task_id="s", execution_timeout=5)
        outcome, _ = run(slow, make_ti, clock)
        assert outcome.return_value == "done" and fired == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, *outer)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(("code", "state"), [(0, "success"), (None, "success"), (3, "failed")])
def test_sys_exit_in_a_task(code: int | None, state: str, make_ti: MakeTI, clock: FrozenClock):
    def exit_(context: dict[str, Any]) -> None:
        raise SystemExit(code)

    outcome, _ = run(CallOp(exit_, task_id="t"), make_ti, clock)
    assert outcome.state == state
