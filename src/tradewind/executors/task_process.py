"""The process of one task try, forked by a warm worker *before* it is needed.

A worker keeps one spare task process: forked by its forker (with the worker's imports
and the DAG files), in its own process group, its engine disposed, blocked on a pipe. When a
workload arrives the worker claims the try in the database itself, then writes the
workload and the claim to that pipe and the try starts at once. The task process only
runs the task: renders, executes, writes its log, and sends the outcome back up its
own pipe; the worker records it. A task that never touches XComs, Variables or
Connections therefore never opens a database connection: no connect, no ORM, and far
fewer copy-on-write page faults, which were most of a try's cost.

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
import pickle
import select
import signal
import struct
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import IO, Any, NoReturn, Protocol

from sqlalchemy.engine import Engine

from tradewind.config import Settings
from tradewind.execution.db_task_instance import ClaimedTry, compile_statements
from tradewind.execution.db_xcom import DatabaseXComStore
from tradewind.execution.memory import InMemoryXComStore, LocalTaskInstance
from tradewind.execution.outcome import TryOutcome
from tradewind.execution.runner import run_task_try
from tradewind.execution.task_logging import TASK_LOGGER_NAME
from tradewind.execution.worker import DagCache, DagLoader, execute_claimed
from tradewind.executors.base import TaskWorkload
from tradewind.processes import die_with_parent, exit_forked_child
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.exceptions import AirflowException
from tradewind.storage.engine import session_factory

logger = logging.getLogger(__name__)
_FRAME = struct.Struct("!I")


@dataclass(frozen=True)
class WorkerConfig:
    """What workers and task processes need, fixed when the executor starts."""

    settings: Settings
    engine: Engine
    dag_loader: DagLoader
    heartbeat_interval: float | None


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
            _write_frame(self.handoff, (workload, claimed))
            return True
        except BrokenPipeError:
            self.wait()
            os.close(self.outcome)
            return False
        finally:
            os.close(self.handoff)

    def collect_outcome(self, interval: float, on_idle: Callable[[], None]) -> TryOutcome | None:
        """Wait for the outcome it sends, calling ``on_idle`` every ``interval`` seconds
        meanwhile (the heartbeat); None if it exits without sending one.

        Watches the process itself too (a pidfd), not only the pipe: a grandchild that
        inherited the pipe's write end could otherwise keep a crashed try "alive".
        """
        os.set_blocking(self.outcome, False)
        pidfd = _pidfd(self.pid)
        buffer = bytearray()
        try:
            deadline = time.monotonic() + interval
            while True:
                watched = [self.outcome] if pidfd is None else [self.outcome, pidfd]
                ready, _, _ = select.select(watched, [], [], max(deadline - time.monotonic(), 0))
                if not ready:
                    on_idle()
                    deadline = time.monotonic() + interval
                    continue
                ended = _drain(self.outcome, buffer) or (pidfd is not None and pidfd in ready)
                found = _parse_frame(buffer)
                if found is not None or ended:
                    if ended and found is None:
                        _drain(self.outcome, buffer)
                        found = _parse_frame(buffer)
                    return found if isinstance(found, TryOutcome) else None
        finally:
            os.close(self.outcome)
            if pidfd is not None:
                os.close(pidfd)

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


def fork_task_process(config: WorkerConfig, cache: DagCache, closing: list[int]) -> TaskProcess:
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
    handoff_r: int, outcome_w: int, closing: list[int], config: WorkerConfig, cache: DagCache
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
        config.engine.dispose(close=False)  # SQLAlchemy's recipe for a forked child
        with os.fdopen(handoff_r, "rb") as handoff:
            received = _read_frame(handoff)
        if received is not None:
            workload, claimed = received
            outcome = execute_claimed(
                workload,
                claimed,
                sessions=session_factory(config.engine),
                settings=config.settings,
                dag_cache=cache,
                around_task=_sigterm_fails_the_task,
            )
            _write_frame(outcome_w, outcome)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        exit_forked_child(code)


def _write_frame(fd: int, value: Any) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    data = memoryview(_FRAME.pack(len(payload)) + payload)
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_frame(stream: IO[bytes]) -> Any:
    """The next pickled value on ``stream``; None at end of file."""
    header = stream.read(_FRAME.size)
    if not header or len(header) < _FRAME.size:
        return None
    (size,) = _FRAME.unpack(header)
    payload = stream.read(size)
    if payload is None or len(payload) < size:
        return None
    return pickle.loads(payload)


def _parse_frame(buffer: bytearray) -> Any:
    """The value of the complete frame in ``buffer``, or None while it is incomplete."""
    if len(buffer) < _FRAME.size:
        return None
    (size,) = _FRAME.unpack_from(buffer)
    if len(buffer) < _FRAME.size + size:
        return None
    try:
        return pickle.loads(bytes(buffer[_FRAME.size : _FRAME.size + size]))
    except Exception:  # a garbled frame from a dying process: no outcome
        logger.warning("Could not read a task process's outcome", exc_info=True)
        return None


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


def rehearse(engine: Engine) -> None:
    """Walk the path of a try without one: connect, run the try's statements against a
    try that does not exist (then roll back), run a tiny templated task in memory.

    In a worker, before it forks its forker, this fills what the worker and every
    task process inherit (compiled statements, Jinja, the runner).
    """
    now = datetime.now(UTC)
    try:
        sessions = session_factory(engine)
        compile_statements(sessions)
        store = DatabaseXComStore(sessions)
        store.find(dag_id="", run_id="", key="return_value", task_ids=[""])
    except Exception:  # the try will meet it too, and report it
        logger.warning("Could not reach the database ahead of a try", exc_info=True)
    task_logger = logging.getLogger(TASK_LOGGER_NAME)
    task_logger.disabled = True
    try:
        ti = LocalTaskInstance(
            dag_id="", task_id="rehearsal", run_id="", xcom_store=InMemoryXComStore()
        )
        context = {"ti": ti, "logical_date": now, "ds": now.strftime("%Y-%m-%d"), "params": {}}
        task = _RehearsalOperator(task_id="rehearsal")
        run_task_try(task, context=context, ti=ti, clock=lambda: datetime.now(UTC))
    except Exception:
        logger.debug("Rehearsing a try failed", exc_info=True)
    finally:
        task_logger.disabled = False


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
