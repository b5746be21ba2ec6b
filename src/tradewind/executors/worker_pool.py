"""The warm worker processes of ``LocalExecutor``.

::

    scheduler (LocalExecutor)
     ├── worker 0        warm: Tradewind, SQLAlchemy, the SDK and DAG files imported
     │    ├── task process   running a try (forked from the worker)
     │    └── task process   the spare, forked ahead, waiting for the next workload
     └── worker 1 ...

A worker is forked from the executor's process, so it starts with everything that
process imported, then warms up once (:func:`warm_up`). It waits for a workload on
its inbox pipe and hands it to its spare task process (see ``task_process``), which
starts the try at once; meanwhile the worker imports the workload's DAG file if it
has not yet (``DagCache``, by mtime) and forks the next spare, which inherits it.
Then it waits for the try's process, kills whatever that left in its process group
and reports its exit code. Forking from the warm worker is the point: a try pays for
neither an interpreter start-up nor the imports, and a task that crashes, leaks
memory or calls ``os._exit`` takes only its own process down.

When the scheduler dies (``kill -9``), its workers are orphaned but not left
unsupervised: a busy worker lets its try run to the end, since the try heartbeats
and records its outcome in the database on its own, and a user who clears or marks
it still stops it (its heartbeat notices within seconds and the task process gets
SIGTERM); the try is neither killed (which would spend a retry for nothing) nor run
again (the new scheduler resets only ``queued`` tries, never ``running`` ones).
Messages up then find no reader and are dropped (:func:`~.pipes.send`). A worker
learns of the death from its inbox: end of file once the scheduler's write end is
gone, so it takes no new work and exits as soon as its try is over; an idle worker
exits at once. A workload already in the inbox is still run if its try can be
claimed, i.e. if the next scheduler has not reset it yet: once either way.

Database connections never cross a fork: the executor builds the engine before
forking and never connects with it; a worker connects during warm-up, closes that
connection, then forks; each task process disposes the inherited pool
(``engine.dispose(close=False)``) and opens its own connection.
"""

from __future__ import annotations

import logging
import os
import signal
import traceback
from typing import IO, NoReturn

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tradewind.execution.worker import DagCache
from tradewind.executors.pipes import read_workload, send
from tradewind.executors.task_process import (
    TaskProcess,
    WorkerConfig,
    fork_task_process,
    kill_group,
    rehearse,
)

logger = logging.getLogger(__name__)


def worker_main(inbox_fd: int, results_fd: int, config: WorkerConfig) -> NoReturn:
    """The worker: runs in a freshly forked process and never returns."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the scheduler's to handle
        config.engine.dispose(close=False)
        warm_up(config.engine)
        cache = DagCache(config.dag_loader)
        with os.fdopen(inbox_fd, "rb") as inbox:
            _serve(inbox, results_fd, config, cache)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _serve(inbox: IO[bytes], results_fd: int, config: WorkerConfig, cache: DagCache) -> None:
    """Hand each workload to the spare, fork the next spare, report the try's exit."""
    spare = fork_task_process(inbox, results_fd, config, cache)
    try:
        while (received := read_workload(inbox)) is not None:
            seq, workload = received
            running = spare
            while not running.hand(seq, workload):  # the spare died waiting: use a new one
                running = fork_task_process(inbox, results_fd, config, cache)
            send(results_fd, seq, "forked", pid=running.pid)
            cache.preload(workload.fileloc, workload.dag_id)
            spare = fork_task_process(inbox, results_fd, config, cache)
            code = running.wait()
            kill_group(running.pid, signal.SIGKILL)  # whatever the try left behind
            send(results_fd, seq, "exited", code=code)
    finally:
        _retire(spare)


def _retire(spare: TaskProcess) -> None:
    spare.retire()
    spare.wait()


def warm_up(engine: Engine) -> None:
    """Do once in the worker what every task process would otherwise do first on its own:
    configure the ORM mappers, connect (initialises the dialect) and :func:`rehearse`.
    Task processes inherit all of it; the worker's connection is closed before any fork.
    """
    sa.orm.configure_mappers()
    rehearse(engine)
    engine.dispose()
