"""The process of one task try, forked by a worker's forker *before* it is needed.

A worker keeps one spare task process: forked by its forker (with the DAG files
imported), in its own process group, blocked on a pipe. When a workload arrives the
worker claims the try in the database itself, then writes the workload and the claim
to that pipe and the try starts at once. The task process only runs the task:
renders, executes, writes its log, and sends the outcome back up its own pipe; the
worker records it. Whatever the try reads or writes in the database (XComs,
Variables, Connections) it asks of the worker over the same pipes
(:mod:`.task_channel`).

So this module and everything a task process runs import no database library
(an import-linter contract keeps it so), and the forker is a fresh interpreter that
imports only them: a task process is forked from ~15 MiB of Python heap instead of
~60, and the fork, its copy-on-write faults and its exit cost that much less.

The process runs exactly one workload (or none: end of file on its pipe makes it
exit) and exits with ``os._exit``, so nothing inherited is ever closed gracefully on
the wrong side of a fork. It asks the kernel for SIGKILL when its parent (the forker,
which dies with the worker) dies (``PR_SET_PDEATHSIG``): a try whose supervisor is
gone would run with no heartbeat and no one to record it, so it must not outlive it.

Signals: Ctrl-C is not forwarded (own process group); while the task executes,
SIGTERM raises ``AirflowException("Task received SIGTERM signal")`` in it, as in
Airflow, so the try ends failed or up_for_retry; before and after, SIGTERM is ignored
so an outcome is never cut in half (the worker escalates to SIGKILL when it must).
"""

from __future__ import annotations

import gc
import logging
import os
import select
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any, NoReturn, Protocol

from tradewind.config import Settings
from tradewind.execution.claimed import ClaimedTry
from tradewind.execution.memory import InMemoryXComStore, LocalTaskInstance
from tradewind.execution.outcome import TryOutcome
from tradewind.execution.runner import run_task_try
from tradewind.execution.task_logging import TASK_LOGGER_NAME
from tradewind.execution.try_run import DagCache, DagLoader, execute_claimed
from tradewind.executors.base import TaskWorkload
from tradewind.executors.frames import read_frame, take_frame, write_frame
from tradewind.executors.task_channel import Reply, Request, WorkerChannel, remote_services
from tradewind.operators.bash import BashOperator
from tradewind.processes import die_with_parent, exit_forked_child
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.exceptions import AirflowException

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForkerConfig:
    """What forkers and their task processes need; sent to the zygote when it starts.

    Attributes:
        settings: the log folder is read.
        dag_loader: imports DAG files (``collect_dags``); a module-level function, so
            that it travels by name and the forker imports its module.
    """

    settings: Settings
    dag_loader: DagLoader


class ExitWaiter(Protocol):
    """Who reaps a task process: its parent, the forker (see ``forker.Forker``)."""

    def wait(self, pid: int) -> int: ...


@dataclass(frozen=True)
class TaskProcess:
    """A worker's handle on a task process: its pid, its two pipes, and its reaper."""

    pid: int
    handoff: int
    outcome: int
    reaper: ExitWaiter | None = None

    def hand(self, workload: TaskWorkload, claimed: ClaimedTry) -> bool:
        """Give it its claimed try; False if it died while waiting (it is then reaped)."""
        try:
            write_frame(self.handoff, (workload, claimed))
            return True
        except BrokenPipeError:
            self.wait()
            os.close(self.outcome)
            os.close(self.handoff)
            return False

    def collect_outcome(
        self,
        interval: float,
        on_idle: Callable[[], None],
        on_request: Callable[[Request], Reply],
    ) -> TryOutcome | None:
        """Wait for the outcome it sends, answering its requests with ``on_request``
        and calling ``on_idle`` every ``interval`` seconds meanwhile (the heartbeat);
        None if it exits without sending one.

        Watches the process itself too (a pidfd), not only the pipe: a grandchild that
        inherited the pipe's write end could otherwise keep a crashed try "alive".
        """
        os.set_blocking(self.outcome, False)
        pidfd = _pidfd(self.pid)
        buffer = bytearray()
        try:
            deadline = time.monotonic() + interval
            while True:
                if time.monotonic() >= deadline:  # even while requests keep coming
                    on_idle()
                    deadline = time.monotonic() + interval
                watched = [self.outcome] if pidfd is None else [self.outcome, pidfd]
                ready, _, _ = select.select(watched, [], [], max(deadline - time.monotonic(), 0))
                if not ready:
                    continue
                ended = _drain(self.outcome, buffer) or (pidfd is not None and pidfd in ready)
                if ended:
                    _drain(self.outcome, buffer)
                while True:
                    complete, found = take_frame(buffer)
                    if not complete:
                        break
                    if isinstance(found, Request):
                        self._answer(on_request(found))
                        continue
                    return found if isinstance(found, TryOutcome) else None
                if ended:
                    return None
        finally:
            os.close(self.outcome)
            os.close(self.handoff)
            if pidfd is not None:
                os.close(pidfd)

    def _answer(self, reply: Reply) -> None:
        try:
            write_frame(self.handoff, reply)
        except BrokenPipeError:  # it died asking: its exit is noticed next
            pass

    def retire(self) -> None:
        """Let a spare that never got a workload exit (end of file on its pipe)."""
        os.close(self.handoff)
        os.close(self.outcome)

    def wait(self) -> int:
        """Block until it exits; its exit code (-N when killed by signal N)."""
        if self.reaper is not None:
            return self.reaper.wait(self.pid)
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


def fork_task_process(config: ForkerConfig, cache: DagCache, closing: list[int]) -> TaskProcess:
    """Fork a spare task process from this process (the forker).

    Args:
        config: what the try needs (settings, engine).
        cache: the DAG files imported so far, inherited by the child.
        closing: file descriptors of this process the child must close.
    """
    handoff_r, handoff_w = os.pipe()
    outcome_r, outcome_w = os.pipe()
    gc.freeze()  # collections in the child then leave this process's pages shared
    pid = os.fork()
    if pid == 0:
        os.close(handoff_w)
        os.close(outcome_r)
        _main(handoff_r, outcome_w, closing, config, cache)
    os.close(handoff_r)
    os.close(outcome_w)
    set_group(pid)  # the child does it too: whichever runs first wins
    return TaskProcess(pid, handoff_w, outcome_r)


def _main(
    handoff_r: int, outcome_w: int, closing: list[int], config: ForkerConfig, cache: DagCache
) -> NoReturn:
    code = 1
    try:
        die_with_parent()
        set_group(0)
        for fd in closing:
            os.close(fd)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # until the task runs
        with os.fdopen(handoff_r, "rb") as handoff:
            received = read_frame(handoff)
            if received is not None:
                workload, claimed = received
                channel = WorkerChannel(outcome_w, handoff)
                outcome = execute_claimed(
                    workload,
                    claimed,
                    services=remote_services(channel),
                    settings=config.settings,
                    dag_cache=cache,
                    around_task=_sigterm_fails_the_task,
                )
                channel.send(outcome)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        exit_forked_child(code)


def _drain(fd: int, buffer: bytearray) -> bool:
    """Append what ``fd`` (non-blocking) holds to ``buffer``; True at end of file."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return False
        if not chunk:
            return True
        buffer += chunk


def _pidfd(pid: int) -> int | None:
    """A file descriptor readable once ``pid`` exits (Linux >= 5.3), else None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


class _RehearsalOperator(BaseOperator):
    template_fields = ("text",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = "{{ ds }}"

    def execute(self, context: Any) -> Any:
        return self.text


def rehearse_try() -> None:
    """Run two tiny tries in memory, their logs discarded: a templated task and a
    ``BashOperator('true')``.

    In the zygote, before it forks any forker, this fills what every task process
    inherits: Jinja's environment and compiled code, the runner's and the logger's first
    calls, and what a process computes the first time it starts a command (``tempfile``
    finds its folder by writing and deleting a file there; ``subprocess``, ``shutil``).
    A bash try forked from a process that never ran one spent ~2 ms more CPU.
    """
    task_logger = logging.getLogger(TASK_LOGGER_NAME)
    sink = logging.NullHandler()  # records are made (their first costs paid), then dropped
    propagate, task_logger.propagate = task_logger.propagate, False
    task_logger.addHandler(sink)
    try:
        for task in (
            _RehearsalOperator(task_id="rehearsal"),
            BashOperator(task_id="rehearsal_bash", bash_command="true"),
        ):
            now = datetime.now(UTC)
            ti = LocalTaskInstance(
                dag_id="", task_id=task.task_id, run_id="", xcom_store=InMemoryXComStore()
            )
            context = {"ti": ti, "logical_date": now, "ds": now.strftime("%Y-%m-%d"), "params": {}}
            run_task_try(task, context=context, ti=ti, clock=lambda: datetime.now(UTC))
    except Exception:
        logger.debug("Rehearsing a try failed", exc_info=True)
    finally:
        task_logger.removeHandler(sink)
        task_logger.propagate = propagate


@contextmanager
def _sigterm_fails_the_task() -> Iterator[None]:
    def raise_in_task(signum: int, frame: FrameType | None) -> None:
        raise AirflowException("Task received SIGTERM signal")

    signal.signal(signal.SIGTERM, raise_in_task)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def set_group(pid: int) -> None:
    """Make ``pid`` (0: this process) the leader of its own process group."""
    try:
        os.setpgid(pid, pid)
    except OSError:  # the other side did it first, or the child exited already
        pass


def kill_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass
