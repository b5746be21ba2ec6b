"""The scheduler's DAG processor, run in a forked child process rather than a thread.

Why a process: the scheduler forks (the LocalExecutor's workers, started when first
needed; the runners of DAG callbacks). A fork copies only the forking thread, so a lock
another thread holds at that moment (SQLite's mutexes, a connection pool's, the import
lock) stays locked forever in the child. With the DAG processor in a thread, a worker
forked while that thread was inside SQLite hung in its first ``connect`` and its runs
never finished (seen under load). With the processor in its own process the scheduler
has one thread and every fork is safe; parsing also stops competing with the
scheduling loop for the GIL.

The child is forked from the scheduler, so it starts with its imports; it dies with
the scheduler (``PR_SET_PDEATHSIG``), stops after its current pass on SIGTERM, ignores
Ctrl-C (the scheduler stops it in order), and is started again by :meth:`supervise`
if it dies, at most once every :data:`RESTART_DELAY` seconds.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

from sqlalchemy.engine import Engine

from tradewind.dag_processing.processor import DagFileProcessor
from tradewind.processes import die_with_parent, exit_forked_child

logger = logging.getLogger(__name__)

#: Seconds at least between two starts of the child (a processor that dies at once
#: must not make the scheduler fork in a loop).
RESTART_DELAY = 5.0


class DagProcessorProcess:
    """Runs ``DagFileProcessor.run_forever`` in a child process and keeps it running.

    Args:
        make_processor: builds the processor in the child (after the fork).
        engine: the scheduler's engine; the child drops its inherited connections.
    """

    def __init__(self, make_processor: Callable[[], DagFileProcessor], engine: Engine) -> None:
        self._make_processor = make_processor
        self._engine = engine
        self.pid: int | None = None
        self._started_at = 0.0
        self._stopped = False

    def start(self) -> None:
        """Fork the child; call it while this process has no other thread."""
        self._started_at = time.monotonic()
        pid = os.fork()
        if pid == 0:
            self._child_main()
        self.pid = pid

    def supervise(self) -> None:
        """Start the child again if it died (cheap: one non-blocking ``waitpid``)."""
        if self._stopped:
            return
        if self.pid is not None:
            code = self._reap(block=False)
            if code is None:
                return
            logger.warning("The DAG processor exited (code %d); starting it again", code)
            self.pid = None
        if time.monotonic() - self._started_at >= RESTART_DELAY:
            self.start()

    def stop(self, timeout: float) -> None:
        """SIGTERM the child, SIGKILL it if it has not exited after ``timeout`` s."""
        self._stopped = True
        if self.pid is None:
            return
        _signal(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self._reap(block=False) is None:
            if time.monotonic() >= deadline:
                _signal(self.pid, signal.SIGKILL)
                self._reap(block=True)
                break
            time.sleep(0.05)
        self.pid = None

    def _reap(self, *, block: bool) -> int | None:
        """The child's exit code if it has exited (-N: killed by signal N), else None."""
        assert self.pid is not None
        try:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return 0
        return os.waitstatus_to_exitcode(status) if pid else None

    def _child_main(self) -> NoReturn:
        code = 1
        try:
            die_with_parent(signal.SIGTERM)
            stop = threading.Event()

            def request_stop(signum: int, frame: FrameType | None) -> None:
                stop.set()

            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the scheduler stops us in order
            if os.getppid() == 1:  # the scheduler died before PR_SET_PDEATHSIG took hold
                os._exit(0)
            self._engine.dispose(close=False)  # SQLAlchemy's recipe for a forked child
            self._make_processor().run_forever(stop)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            exit_forked_child(code)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
