"""``execution_timeout``: stop waiting for ``execute`` once the task's time is up.

In a worker's main thread the timer is ``SIGALRM``: the handler raises
``TaskTimeout`` inside ``execute`` wherever it is, exactly as Airflow does, so
the try ends and ``on_kill`` can release external work. An alarm that was
already armed (pytest-timeout, an outer supervisor) keeps working: if it is due
first it is delivered to its own handler, and it is re-armed with its remaining
time afterwards.

Signals only reach the main thread, so elsewhere (a thread-pool executor, a
test) ``execute`` runs in a daemon thread that is abandoned at the deadline; it
cannot be interrupted, which is why ``on_kill`` is called then.
"""

from __future__ import annotations

import contextvars
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

from tradewind.sdk.exceptions import TaskTimeout

T = TypeVar("T")


def call_with_timeout(
    func: Callable[[], T], seconds: float | None, *, on_timeout: Callable[[], Any]
) -> T:
    """Return ``func()``, or raise TaskTimeout after ``seconds`` (None: no limit).

    ``on_timeout`` (the operator's ``on_kill``) is called before TaskTimeout
    propagates; its own exceptions propagate instead.
    """
    if seconds is None:
        return func()
    try:
        if _alarm_usable():
            return _with_alarm(func, seconds)
        return _with_thread(func, seconds)
    except TaskTimeout:
        on_timeout()
        raise


def _alarm_usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _timeout_error(seconds: float) -> TaskTimeout:
    return TaskTimeout(f"Timeout after {seconds:g} s, PID: {os.getpid()}")


def _with_alarm(func: Callable[[], T], seconds: float) -> T:
    outer_delay, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()
    deadline = started + seconds
    outer_deadline = started + outer_delay if outer_delay else None
    outer_handler = signal.getsignal(signal.SIGALRM)

    def arm() -> None:
        now = time.monotonic()
        due = deadline if outer_deadline is None else min(deadline, outer_deadline)
        signal.setitimer(signal.ITIMER_REAL, max(due - now, 0.001))

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        nonlocal outer_deadline
        if outer_deadline is not None and time.monotonic() >= outer_deadline - 0.001:
            outer_deadline = None
            if callable(outer_handler):
                outer_handler(signum, frame)  # may raise: the outer owner's decision
            arm()
            return
        raise _timeout_error(seconds)

    signal.signal(signal.SIGALRM, on_alarm)
    arm()
    try:
        return func()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, outer_handler)
        if outer_deadline is not None:
            remaining = max(outer_deadline - time.monotonic(), 0.001)
            signal.setitimer(signal.ITIMER_REAL, remaining, outer_interval)


def _with_thread(func: Callable[[], T], seconds: float) -> T:
    result: list[T] = []
    error: list[BaseException] = []
    context = contextvars.copy_context()

    def target() -> None:
        try:
            result.append(context.run(func))
        except BaseException as exc:  # handed to the caller's thread
            error.append(exc)

    worker = threading.Thread(target=target, name="tradewind-execute", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _timeout_error(seconds)
    if error:
        raise error[0]
    return result[0]
