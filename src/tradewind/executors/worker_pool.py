"""The warm worker processes of ``LocalExecutor``.

::

    scheduler (LocalExecutor)
     ├── zygote          a small fresh interpreter that forks a forker per worker (``zygote``)
     │    └── forker     of worker 0: imports DAG files, forks and reaps task processes
     │         ├── task process   running a try
     │         └── task process   the spare, forked ahead, waiting for the next workload
     ├── worker 0        warm: Tradewind, SQLAlchemy and the SDK imported; the database work
     └── worker 1 ...

A worker is forked from the executor's process, so it starts with everything that
process imported, then warms up once (:func:`warm_up`) and asks the zygote for its
forker. For each
workload on its inbox pipe it claims the try in the database itself (guarded
``queued -> running``: this is what makes sure no try runs twice), hands the workload
and the claim to the spare task process, which starts the try at once, and asks the
forker for the next spare (which imports the workload's DAG file first, so the spare
inherits it). While the try runs, the worker heartbeats it and watches for a user's
clear or mark (then SIGTERM to the try's process group); when the task process sends
its outcome, the worker records it (guarded ``running -> <state>``), kills whatever the
try left in its process group and reports. Forking from a warm process is the point:
a try pays for neither an interpreter start-up nor the imports, and a task that
crashes, leaks memory or calls ``os._exit`` takes only its own process down.

The split of work is for speed: the task process never opens a database connection
(what the task reads or writes in the database, the worker does for it when asked:
``task_channel``), so it is forked from a process without SQLAlchemy, a quarter of the
memory; and the worker, which does the database work, is never the parent of a live
fork, so its writes cost no copy-on-write faults (see ``forker``).

When the scheduler dies (``kill -9``), its workers are orphaned but not left
unsupervised: a busy worker lets its try run to the end, heartbeating and recording
it, and a user who clears or marks it still stops it; the try is neither killed
(which would spend a retry for nothing) nor run again (the new scheduler resets only
``queued`` tries, never ``running`` ones). Messages up then find no reader and are
dropped (:func:`~.pipes.send`). A worker learns of the death from its inbox: end of
file once the scheduler's write end is gone, so it takes no new work and exits as
soon as its try is over; an idle worker exits at once. A workload already in the
inbox is still run if its try can be claimed, i.e. if the next scheduler has not
reset it yet: once either way. When a worker dies, its forker (which watches it) kills
the try and exits: a try nobody heartbeats or records must not go on running.

Database connections never cross a fork: a worker disposes the pool it inherited from
the scheduler (``engine.dispose(close=False)``) and makes its own; its forker and task
processes have no database library at all.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, NoReturn

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings
from tradewind.execution.claimed import ClaimedTry
from tradewind.execution.db_task_instance import (
    compile_statements,
    heartbeat_try,
    set_try_pid,
)
from tradewind.execution.db_xcom import DatabaseXComStore
from tradewind.execution.outcome import TryOutcome
from tradewind.execution.try_run import DagLoader
from tradewind.execution.worker import (
    claim_workload,
    database_services,
    heartbeat_interval_for,
    record_outcome,
)
from tradewind.executors.base import TaskWorkload
from tradewind.executors.forker import Forker
from tradewind.executors.pipes import read_workload, send
from tradewind.executors.task_channel import answer
from tradewind.executors.task_process import TaskProcess, kill_group
from tradewind.executors.zygote import request_forker
from tradewind.processes import exit_forked_child
from tradewind.storage import sqlite_write_queue
from tradewind.storage.engine import session_factory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    """What workers need, fixed when the executor starts."""

    settings: Settings
    engine: Engine
    dag_loader: DagLoader
    heartbeat_interval: float | None
    #: The zygote's socket (inherited), to ask for a forker on (see ``zygote``).
    zygote_fd: int


def worker_main(inbox_fd: int, results_fd: int, config: WorkerConfig) -> NoReturn:
    """The worker: runs in a freshly forked process and never returns."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the scheduler's to handle
        config.engine.dispose(close=False)
        sqlite_write_queue.enable()  # one thread, no alarms: it may queue for the lock
        warm_up(config.engine)
        with os.fdopen(inbox_fd, "rb") as inbox:
            forker = Forker.start(request_forker(config.zygote_fd))
            try:
                _serve(inbox, results_fd, config, forker)
            finally:
                forker.stop()
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        exit_forked_child(code)


def _serve(inbox: IO[bytes], results_fd: int, config: WorkerConfig, forker: Forker) -> None:
    """Claim each workload's try, hand it to the spare, fork the next spare, supervise the
    try (heartbeats, a user's clear or mark), record its outcome and report its exit."""
    sessions = session_factory(config.engine)
    services = database_services(sessions)
    interval = config.heartbeat_interval or heartbeat_interval_for(config.settings)
    forker.request_spare()
    spare: TaskProcess | None = None
    try:
        while (received := read_workload(inbox)) is not None:
            seq, workload = received
            if spare is None:
                spare = forker.take_spare()
            try:
                claimed_pid = spare.pid
                claimed = claim_workload(workload, sessions=sessions, pid=claimed_pid)
            except Exception:
                logger.exception("Could not claim %s", workload.ti_id)
                send(results_fd, seq, "exited", code=1)
                continue
            if claimed is None:  # not queued any more: someone else has it, or nobody
                send(results_fd, seq, "exited", code=0)
                continue
            send(results_fd, seq, "started")
            running, spare = spare, None
            while not running.hand(workload, claimed):  # the spare died waiting
                forker.request_spare(workload.fileloc, workload.dag_id)
                running = forker.take_spare()
            if running.pid != claimed_pid:
                _set_pid(workload, running.pid, sessions)
            send(results_fd, seq, "forked", pid=running.pid)
            # Not awaited: the forker imports the DAG file and forks while the try runs.
            forker.request_spare(workload.fileloc, workload.dag_id)
            outcome = running.collect_outcome(
                interval,
                on_idle=functools.partial(_heartbeat, running, workload, sessions),
                on_request=functools.partial(answer, services=services),
            )
            # Recorded before the task process is reaped: its exit (tearing down its
            # address space, the forker's waitpid) takes milliseconds that the next
            # task of a chain need not wait for.
            if outcome is not None and _record(workload, claimed, outcome, sessions):
                send(results_fd, seq, "finished", state=outcome.state.value)
            code = running.wait()
            kill_group(running.pid, signal.SIGKILL)  # whatever the try left behind
            send(results_fd, seq, "exited", code=code)
    finally:
        if spare is not None:
            _retire(spare)
        # A spare still being forked gets end of file once the forker's socket closes.


def _heartbeat(
    running: TaskProcess, workload: TaskWorkload, sessions: sessionmaker[Session]
) -> None:
    """Refresh the try's heartbeat; SIGTERM its process group if a user cleared or
    marked the try meanwhile (its heartbeat guard then fails)."""
    try:
        alive = heartbeat_try(sessions, workload, now=datetime.now(UTC))
    except Exception:  # a database hiccup: the next beat may succeed
        logger.warning("Heartbeat of try %s failed", workload.ti_id, exc_info=True)
        return
    if not alive:
        logger.warning("Try %s is no longer running: it was changed", workload.ti_id)
        kill_group(running.pid, signal.SIGTERM)


def _set_pid(workload: TaskWorkload, pid: int, sessions: sessionmaker[Session]) -> None:
    """The try's row names the process that runs it (a user who kills it by pid, the
    API's ``pid``), not the spare that died before it could."""
    try:
        set_try_pid(sessions, workload, pid=pid)
    except Exception:  # only the recorded pid is stale; the try runs and is recorded
        logger.warning("Could not record the pid of try %s", workload.ti_id, exc_info=True)


def _record(
    workload: TaskWorkload,
    claimed: ClaimedTry,
    outcome: TryOutcome,
    sessions: sessionmaker[Session],
) -> bool:
    """Record the outcome; False if the database failed us (the scheduler then sees a
    lost try). A try changed meanwhile (its guard failed) counts as recorded: the
    outcome is dropped and logged, and the executor still reports how it ended."""
    try:
        record_outcome(workload, claimed, outcome, sessions=sessions)
    except Exception:
        logger.exception("Could not record the outcome of try %s", workload.ti_id)
        return False
    return True


def _retire(spare: TaskProcess) -> None:
    spare.retire()
    spare.wait()


def warm_up(engine: Engine) -> None:
    """Do once, before the first try, what the worker's first try would otherwise pay
    for: configure the ORM mappers, connect (initialises the dialect), compile the
    statements of a try (run against a try that does not exist, then rolled back)."""
    sa.orm.configure_mappers()
    try:
        sessions = session_factory(engine)
        compile_statements(sessions)
        DatabaseXComStore(sessions).find(dag_id="", run_id="", key="return_value", task_ids=[""])
    except Exception:  # the first try will meet it too, and report it
        logger.warning("Could not reach the database ahead of a try", exc_info=True)
