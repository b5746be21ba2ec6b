"""InlineExecutor: runs each try in the calling process, when the scheduler says so.

The in-process twin of ``LocalExecutor``, for tests, ``SequentialExecutor`` and
debugging a task under a debugger. ``queue`` only buffers the workload; the tries
run one after another, synchronously, in :meth:`InlineExecutor.poll_events` (or
an explicit :meth:`~InlineExecutor.run_pending`), so the scheduler loop decides
when the (blocking) work happens and a test can step it. ``wait_fileno`` is a
self-pipe made readable by ``queue``, so a scheduler waiting in ``select`` wakes
at once to call ``poll_events``.

It shares :func:`tradewind.execution.worker.run_workload` with the local executor,
so the database sees exactly the same transitions. What it cannot do is isolate
a try: a task that calls ``os._exit`` or crashes the interpreter takes the
calling process with it, and ``stdout`` is redirected process-wide while a try runs.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings
from tradewind.execution.try_run import DagCache, DagLoader
from tradewind.execution.worker import run_workload
from tradewind.executors.base import TaskEvent, TaskWorkload


def _utcnow() -> datetime:
    return datetime.now(UTC)


class InlineExecutor:
    """Runs queued tries in this process, in ``poll_events``/``run_pending`` (blocking).

    Args:
        settings: passed to ``run_workload`` (log folder, heartbeat).
        session_factory: sessions of the caller's engine.
        dag_loader: imports DAG files (``collect_dags``); results are cached per mtime.
        parallelism: how many workloads may wait in the buffer; None is
            ``[core] parallelism``.
        clock: now, UTC (tests freeze it).
        heartbeat_interval: seconds between heartbeats of a running try; None derives
            it from the settings.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        session_factory: sessionmaker[Session],
        dag_loader: DagLoader,
        parallelism: int | None = None,
        clock: Callable[[], datetime] | None = None,
        heartbeat_interval: float | None = None,
    ) -> None:
        self.settings = settings
        self.parallelism = parallelism or settings.core.parallelism
        self._sessions = session_factory
        self._dag_cache = DagCache(dag_loader)
        self._clock = clock if clock is not None else _utcnow
        self._heartbeat_interval = heartbeat_interval
        self._pending: collections.deque[TaskWorkload] = collections.deque()
        self._events: list[TaskEvent] = []
        self._wake_r, self._wake_w = -1, -1

    def start(self) -> None:
        """Open the self-pipe behind :meth:`wait_fileno`."""
        if self._wake_r < 0:
            self._wake_r, self._wake_w = os.pipe()
            os.set_blocking(self._wake_r, False)
            os.set_blocking(self._wake_w, False)

    def queue(self, workload: TaskWorkload) -> None:
        """Buffer ``workload``; it runs at the next ``poll_events`` or ``run_pending``."""
        self._pending.append(workload)
        self._wake()

    def open_slots(self) -> int:
        return max(self.parallelism - len(self._pending), 0)

    def run_pending(self) -> int:
        """Run every buffered workload now, in queue order; returns how many ran."""
        ran = 0
        while self._pending:
            self._run(self._pending.popleft())
            ran += 1
        return ran

    def poll_events(self) -> list[TaskEvent]:
        """Run the buffered workloads (blocking), then return the events, oldest first."""
        self.run_pending()
        self._drain_wake()
        events, self._events = self._events, []
        return events

    def wait_fileno(self) -> int | None:
        return self._wake_r if self._wake_r >= 0 else None

    def end(self, timeout: float = 10.0) -> None:
        """Drop the buffered workloads (they stay ``queued`` in the database) and close
        the self-pipe. Nothing runs in the background, so there is nothing to wait for."""
        self._pending.clear()
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r, self._wake_w = -1, -1

    def _run(self, workload: TaskWorkload) -> None:
        def started() -> None:
            self._events.append(TaskEvent(workload, "running"))

        outcome = run_workload(
            workload,
            session_factory=self._sessions,
            settings=self.settings,
            dag_cache=self._dag_cache,
            clock=self._clock,
            on_started=started,
            heartbeat_interval=self._heartbeat_interval,
        )
        if outcome is not None:
            self._events.append(TaskEvent(workload, outcome.state.value))
        self._wake()

    def _wake(self) -> None:
        if self._wake_w >= 0:
            try:
                os.write(self._wake_w, b"\0")
            except BlockingIOError:  # the pipe is full: it is readable already
                pass

    def _drain_wake(self) -> None:
        if self._wake_r < 0:
            return
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass
