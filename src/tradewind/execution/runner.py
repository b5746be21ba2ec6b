"""run_task_try: one try of one task, from rendering to its final state.

The steps, in Airflow 2.10's order:

1. clear the task instance's XComs from an earlier try;
2. render the template fields, on a copy of the operator so the DAG's own task
   stays unrendered for the next try;
3. ``pre_execute``, ``on_execute_callback``, then ``execute`` under
   ``execution_timeout`` (see :mod:`tradewind.execution.timeout`);
4. push the return value to XCom (``return_value``; with ``multiple_outputs``
   also one XCom per key), only when ``do_xcom_push`` and it is not None — with
   ``ti.xcom_push``, or with the ``push_return_value`` the caller passes (a worker
   holds them and writes them with the try's outcome, in one transaction);
5. ``post_execute``;
6. map the way the try ended to a state — ``TaskSkipped`` → skipped,
   ``TaskFailed``/``SensorTimeout`` → failed, ``RescheduleTask`` →
   up_for_reschedule, ``TaskDeferred`` → deferred, ``TaskTimeout`` and any other
   exception → up_for_retry while retries remain, else failed;
7. run that state's callbacks once; their exceptions are logged and never change
   the outcome.

The runner records nothing: it returns a :class:`TryOutcome` and the caller
stores it. Everything it says goes to the ``tradewind.task`` logger, which
:func:`tradewind.execution.task_logging.capture_task_log` sends to the try's log.
"""

from __future__ import annotations

import copy
import logging
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from tradewind.execution.outcome import TryOutcome
from tradewind.execution.retry import next_retry_delay, should_retry
from tradewind.execution.timeout import call_with_timeout
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.exceptions import (
    AirflowException,
    RescheduleTask,
    TaskDeferred,
    TaskSkipped,
)
from tradewind.sdk.runtime import RuntimeTaskInstance
from tradewind.sdk.states import TaskInstanceState
from tradewind.sdk.xcom_arg import RETURN_VALUE_KEY

log = logging.getLogger("tradewind.task")

Clock = Callable[[], datetime]
#: Pushes one XCom of the try's own task instance: ``(key, value)``.
XComPush = Callable[[str, Any], None]


class TryTaskInstance(RuntimeTaskInstance, Protocol):
    """What the runner needs of the task instance beyond what a task sees."""

    @property
    def skipped_task_ids(self) -> set[str]:
        """Ids passed to ``skip_tasks`` during this try."""
        ...

    def clear_xcom(self) -> None:
        """Delete this task instance's XComs (from an earlier try)."""
        ...


def run_task_try(
    task: BaseOperator,
    *,
    context: Mapping[str, Any],
    ti: TryTaskInstance,
    clock: Clock,
    push_return_value: XComPush | None = None,
) -> TryOutcome:
    """Run one try of ``task`` and decide its state.

    Args:
        task: the DAG's task; it is copied before rendering, never changed.
        context: the template context of this try (``ds``, ``params``, ``ti``...),
            with ``ti`` being ``ti``; the runner adds ``task`` (the rendered copy)
            and, for failure and retry callbacks, ``exception``.
        ti: the running task instance: XCom, skips, ``try_number``.
        clock: returns the current UTC time; start, end and retry times come from it.
        push_return_value: where the return value's XComs go; ``ti.xcom_push`` when
            None. It must fail (``TypeError``) for a value it cannot store, as
            ``xcom_push`` does: the try then fails.

    Returns:
        The outcome. It never raises for what the task does: errors in templates,
        hooks, ``execute`` and callbacks all end up in the outcome or the log.
    """
    start = clock()
    logical_date = context.get("logical_date")
    log.info("Executing %s on %s", task, logical_date)
    log.info("Starting attempt %s of %s", ti.try_number, ti.max_tries + 1)
    work = copy.copy(task)
    ctx: dict[str, Any] = dict(context)
    ctx["task"] = work
    rendered: dict[str, Any] = {}
    result: Any = None
    error: BaseException | None = None
    try:
        ti.clear_xcom()
        work.render_template_fields(ctx)
        rendered = {name: getattr(work, name, None) for name in work.template_fields}
        work.pre_execute(ctx)
        _run_callbacks(work.on_execute_callback, ctx, "on_execute_callback")
        timeout = work.execution_timeout.total_seconds() if work.execution_timeout else None
        result = call_with_timeout(lambda: _execute(work, ctx), timeout, on_timeout=work.on_kill)
        _push_xcom(work, push_return_value or ti.xcom_push, result)
        work.post_execute(ctx, result)
    except Exception as exc:
        error = exc
    end = clock()
    state, next_at = _decide(work, ti, error, end, logical_date)
    _log_result(work, ti, state, error, logical_date, start, end)
    _run_state_callbacks(work, state, ctx, error)
    return TryOutcome(
        state=state,
        return_value=result if error is None else None,
        error=_describe(error) if _is_error(state) else None,
        traceback=_format_traceback(error) if _is_error(state) else None,
        duration=max((end - start).total_seconds(), 0.0),
        start_date=start,
        end_date=end,
        skipped_task_ids=frozenset(ti.skipped_task_ids),
        next_retry_at=next_at,
        rendered_fields=rendered,
        deferral=error if isinstance(error, TaskDeferred) else None,
    )


def _execute(task: BaseOperator, ctx: dict[str, Any]) -> Any:
    """``task.execute``; ``sys.exit(0)`` in a task means success, another code failure."""
    try:
        return task.execute(ctx)
    except SystemExit as exc:
        if exc.code is None or exc.code == 0:
            return None
        raise AirflowException(f"SystemExit has been raised with exit code {exc.code}") from exc


def _push_xcom(task: BaseOperator, push: XComPush, result: Any) -> None:
    if not task.do_xcom_push or result is None:
        return
    if task.multiple_outputs:
        if not isinstance(result, Mapping):
            raise AirflowException(
                f"Returned output was type {type(result)} expected dictionary for multiple_outputs"
            )
        for key in result:
            if not isinstance(key, str):
                raise AirflowException(
                    "Returned dictionary keys must be strings when using multiple_outputs, "
                    f"found {key} ({type(key)}) instead"
                )
        for key, value in result.items():
            push(key, value)
    push(RETURN_VALUE_KEY, result)


def _decide(
    task: BaseOperator,
    ti: RuntimeTaskInstance,
    error: BaseException | None,
    end: datetime,
    logical_date: Any,
) -> tuple[TaskInstanceState, datetime | None]:
    if error is None:
        return TaskInstanceState.SUCCESS, None
    if isinstance(error, TaskSkipped):
        return TaskInstanceState.SKIPPED, None
    if isinstance(error, RescheduleTask):
        return TaskInstanceState.UP_FOR_RESCHEDULE, error.reschedule_date
    if isinstance(error, TaskDeferred):
        return TaskInstanceState.DEFERRED, None
    if should_retry(task, ti.try_number, error):
        date = logical_date if isinstance(logical_date, datetime) else None
        delay = next_retry_delay(task, ti.try_number, logical_date=date)
        return TaskInstanceState.UP_FOR_RETRY, end + delay
    return TaskInstanceState.FAILED, None


def _is_error(state: TaskInstanceState) -> bool:
    return state in (TaskInstanceState.FAILED, TaskInstanceState.UP_FOR_RETRY)


def _log_result(
    task: BaseOperator,
    ti: RuntimeTaskInstance,
    state: TaskInstanceState,
    error: BaseException | None,
    logical_date: Any,
    start: datetime,
    end: datetime,
) -> None:
    if _is_error(state) and error is not None:
        log.error("Task failed with exception", exc_info=error)
    elif isinstance(error, TaskSkipped) and error.args:
        log.info("%s", error)
    elif isinstance(error, RescheduleTask | TaskDeferred):
        log.info("%s", error)
    if state in (TaskInstanceState.UP_FOR_RESCHEDULE, TaskInstanceState.DEFERRED):
        return
    map_part = f"map_index={ti.map_index}, " if ti.map_index >= 0 else ""
    log.info(
        "Marking task as %s. dag_id=%s, task_id=%s, run_id=%s, %sexecution_date=%s, "
        "start_date=%s, end_date=%s",
        state.name,
        ti.dag_id,
        ti.task_id,
        ti.run_id,
        map_part,
        _compact(logical_date),
        _compact(start),
        _compact(end),
    )


def _compact(value: Any) -> str:
    """Airflow's ``20240101T000000`` form of the dates in the "Marking task as" line."""
    return value.strftime("%Y%m%dT%H%M%S") if isinstance(value, datetime) else str(value)


_STATE_CALLBACKS = {
    TaskInstanceState.SUCCESS: "on_success_callback",
    TaskInstanceState.FAILED: "on_failure_callback",
    TaskInstanceState.UP_FOR_RETRY: "on_retry_callback",
    TaskInstanceState.SKIPPED: "on_skipped_callback",
}


def _run_state_callbacks(
    task: BaseOperator,
    state: TaskInstanceState,
    ctx: dict[str, Any],
    error: BaseException | None,
) -> None:
    name = _STATE_CALLBACKS.get(state)
    if name is None:
        return
    if _is_error(state):
        ctx["exception"] = error
    _run_callbacks(getattr(task, name, None), ctx, name)


def _run_callbacks(callbacks: Any, ctx: Mapping[str, Any], name: str) -> None:
    """Call each callback with the context; log, never raise, what they raise."""
    if callbacks is None:
        return
    for callback in callbacks if isinstance(callbacks, list | tuple) else [callbacks]:
        try:
            callback(ctx)
        except Exception:
            log.exception("Error when executing %s callback %r", name, callback)


def _describe(error: BaseException | None) -> str | None:
    if error is None:
        return None
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _format_traceback(error: BaseException | None) -> str | None:
    if error is None:
        return None
    return "".join(traceback.format_exception(error))
