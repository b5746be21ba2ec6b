"""The process of one task try, forked by a warm worker *before* it is needed.

A worker keeps one spare task process: forked (with the worker's imports and DAG
files), in its own process group, its engine disposed and its own database
connection already open, blocked on a pipe. When a workload arrives the worker
writes it to that pipe and the try starts at once — the ``fork``, the copy-on-write
page faults that follow it and the connection set-up have already happened, off
the latency path. The process runs exactly one workload (or none: end of file on
its pipe makes it exit) and exits with ``os._exit``, so nothing inherited is ever
closed gracefully on the wrong side of a fork.

Signals: Ctrl-C is not forwarded (own process group); while the task executes,
SIGTERM raises ``AirflowException("Task received SIGTERM signal")`` in it, as in
Airflow, so the try ends failed or up_for_retry and is recorded; before and after,
SIGTERM is ignored once the try is claimed, so a record is never cut in half (the
executor escalates to SIGKILL when it must).
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import IO, Any, NoReturn

from sqlalchemy.engine import Engine

from tradewind.config import Settings
from tradewind.execution.db_task_instance import compile_statements
from tradewind.execution.db_xcom import DatabaseXComStore
from tradewind.execution.memory import InMemoryXComStore, LocalTaskInstance
from tradewind.execution.runner import run_task_try
from tradewind.execution.task_logging import TASK_LOGGER_NAME
from tradewind.execution.worker import DagCache, DagLoader, run_workload
from tradewind.executors.base import TaskWorkload
from tradewind.executors.pipes import encode_workload, read_workload, send
from tradewind.processes import exit_forked_child
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.exceptions import AirflowException
from tradewind.storage.engine import session_factory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    """What workers and task processes need, fixed when the executor starts."""

    settings: Settings
    engine: Engine
    dag_loader: DagLoader
    heartbeat_interval: float | None


@dataclass(frozen=True)
class TaskProcess:
    """The worker's handle on a task process: its pid and the pipe it waits on."""

    pid: int
    handoff: int

    def hand(self, seq: int, workload: TaskWorkload) -> bool:
        """Give it its workload; False if it died while waiting (it is then reaped)."""
        try:
            os.write(self.handoff, encode_workload(seq, workload))
            return True
        except BrokenPipeError:
            self.wait()
            return False
        finally:
            os.close(self.handoff)

    def retire(self) -> None:
        """Let a spare that never got a workload exit (end of file on its pipe)."""
        os.close(self.handoff)

    def wait(self) -> int:
        """Block until it exits; its exit code (-N when killed by signal N)."""
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


def fork_task_process(
    inbox: IO[bytes], results_fd: int, config: WorkerConfig, cache: DagCache
) -> TaskProcess:
    """Fork a spare task process from this (worker) process."""
    handoff_r, handoff_w = os.pipe()
    gc.freeze()  # collections in the child then leave the worker's pages shared
    pid = os.fork()
    if pid == 0:
        os.close(handoff_w)
        _main(handoff_r, inbox, results_fd, config, cache)
    os.close(handoff_r)
    set_group(pid)  # the child does it too: whichever runs first wins
    return TaskProcess(pid, handoff_w)


def _main(
    handoff_r: int, inbox: IO[bytes], results_fd: int, config: WorkerConfig, cache: DagCache
) -> NoReturn:
    code = 1
    try:
        set_group(0)
        inbox.close()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        config.engine.dispose(close=False)  # SQLAlchemy's recipe for a forked child
        _connect_ahead(config.engine)
        with os.fdopen(handoff_r, "rb") as handoff:
            received = read_workload(handoff)
        if received is not None:
            seq, workload = received
            _run(seq, workload, results_fd, config, cache)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        exit_forked_child(code)


def _run(
    seq: int, workload: TaskWorkload, results_fd: int, config: WorkerConfig, cache: DagCache
) -> None:
    def started() -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # claimed: never die mid-record
        send(results_fd, seq, "started")

    outcome = run_workload(
        workload,
        session_factory=session_factory(config.engine),
        settings=config.settings,
        dag_cache=cache,
        on_started=started,
        on_claim_lost=lambda: os.kill(os.getpid(), signal.SIGTERM),
        around_task=_sigterm_fails_the_task,
        heartbeat_interval=config.heartbeat_interval,
    )
    if outcome is not None:
        send(results_fd, seq, "finished", state=outcome.state.value)


def _connect_ahead(engine: Engine) -> None:
    """Open this process's own connection now, and keep it in its pool for the try."""
    try:
        with engine.connect():
            pass
    except Exception:  # the try will meet it too, and report it
        logger.warning("Could not connect to the database ahead of a try", exc_info=True)


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

    In a worker this fills what task processes inherit (compiled statements, Jinja,
    the runner). In a spare task process, after the fork, it takes the copy-on-write
    page faults of that path (several milliseconds) while idle instead of when the
    try starts, and leaves this process's own connection open in its pool.
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
