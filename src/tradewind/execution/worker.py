"""The database side of one task try: claim it, record it, and run it in between.

:func:`run_workload` is what the inline executor runs for a workload, in the calling
process; ``LocalExecutor``'s workers do the same steps split across two processes
(``tradewind.executors.worker_pool``):

1. claim the try with a guarded ``queued -> running`` (see ``db_task_instance``);
   a try that is not ``queued`` with this try number any more is not run — this is
   what guarantees that no try runs twice;
2. run it with :func:`~tradewind.execution.try_run.execute_claimed` (the same runner
   as ``dags test``), over the database's XComs, Variables and Connections
   (:func:`database_services`); a heartbeat thread meanwhile keeps
   ``last_heartbeat_at`` fresh so the scheduler can tell a live try from a zombie;
3. record the outcome with a guarded ``running -> <final>``, with the try's return
   value.

No transaction is open while the task runs: each step is its own short one.
"""

from __future__ import annotations

import functools
import getpass
import logging
import os
import socket
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings
from tradewind.execution.claimed import ClaimedTry, TryIdentity
from tradewind.execution.database_accessors import fetch_connection, fetch_variable
from tradewind.execution.db_task_instance import claim_try, heartbeat_try, record_try
from tradewind.execution.db_xcom import DatabaseXComStore
from tradewind.execution.outcome import TryOutcome
from tradewind.execution.try_run import DagCache, TryServices, Workload, execute_claimed, label
from tradewind.storage.idle_ping import once_more_if_disconnected

logger = logging.getLogger(__name__)

#: Longest interval between two heartbeats of a running try (seconds); shorter when
#: ``[scheduler] scheduler_zombie_task_threshold`` is small, so 4 beats fit in it.
DEFAULT_HEARTBEAT_INTERVAL = 5.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


def database_services(sessions: sessionmaker[Session]) -> TryServices:
    """A try's XComs, Variables and Connections, read and written in the database."""
    return TryServices(
        xcoms=DatabaseXComStore(sessions),
        variable=functools.partial(fetch_variable, sessions),
        connection=functools.partial(fetch_connection, sessions),
    )


def run_workload(
    workload: Workload,
    *,
    session_factory: sessionmaker[Session],
    settings: Settings,
    dag_cache: DagCache,
    clock: Callable[[], datetime] = _utcnow,
    on_started: Callable[[], None] | None = None,
    on_claim_lost: Callable[[], None] | None = None,
    around_task: Callable[[], AbstractContextManager[Any]] | None = None,
    heartbeat_interval: float | None = None,
) -> TryOutcome | None:
    """Run one try of a task instance, recording it in the metadata database.

    Args:
        workload: the try (a ``TaskWorkload``).
        session_factory: sessions of this process's engine (never one shared across fork).
        settings: ``[logging] base_log_folder`` and the zombie threshold are read.
        dag_cache: where the DAG is imported from.
        clock: now, UTC.
        on_started: called once the try is claimed (``running``), before it runs.
        on_claim_lost: called from the heartbeat thread when the try stopped being
            ``running`` with this try number (cleared, marked by a user); a forked
            worker sends itself SIGTERM, the inline executor only logs.
        around_task: a context manager factory entered around the task's execution
            (a forked worker installs its SIGTERM handler there).
        heartbeat_interval: seconds between heartbeats; None derives it from settings.

    Returns:
        The outcome as recorded, or None when the try was not claimed (not run). An
        outcome whose record found the try changed meanwhile is logged and dropped,
        and still returned.
    """
    claimed = claim_workload(workload, sessions=session_factory, clock=clock)
    if claimed is None:
        return None
    if on_started is not None:
        on_started()
    interval = heartbeat_interval or heartbeat_interval_for(settings)
    heartbeat = _Heartbeat(session_factory, workload, interval, clock, on_claim_lost)
    heartbeat.start()
    try:
        outcome = execute_claimed(
            workload,
            claimed,
            services=database_services(session_factory),
            settings=settings,
            dag_cache=dag_cache,
            clock=clock,
            around_task=around_task,
        )
    finally:
        heartbeat.stop()
    record_outcome(workload, claimed, outcome, sessions=session_factory)
    return outcome


def heartbeat_interval_for(settings: Settings) -> float:
    """Seconds between heartbeats: 4 fit in the zombie threshold, at most 5 s apart."""
    return min(DEFAULT_HEARTBEAT_INTERVAL, settings.scheduler.scheduler_zombie_task_threshold / 4)


def claim_workload(
    workload: Workload,
    *,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime] = _utcnow,
    pid: int | None = None,
) -> ClaimedTry | None:
    """Claim the try (guarded ``queued -> running``); None, logged, when it is not queued.

    ``pid``: the process that will run the try (default: this one).
    """
    claimed = once_more_if_disconnected(
        lambda: claim_try(
            sessions,
            workload,
            now=clock(),
            hostname=_hostname(),
            pid=os.getpid() if pid is None else pid,
            unixname=_unixname(),
        )
    )
    if claimed is None:
        logger.info(
            "Not running %s try %s: it is not queued any more",
            label(workload),
            workload.try_number,
        )
    return claimed


def record_outcome(
    workload: Workload,
    claimed: ClaimedTry,
    outcome: TryOutcome,
    *,
    sessions: sessionmaker[Session],
) -> bool:
    """Record how the try ended (guarded ``running -> <state>``); False, logged, when the
    try was changed meanwhile (cleared, marked) and the outcome was dropped."""
    recorded = once_more_if_disconnected(
        lambda: record_try(
            sessions,
            workload,
            state=outcome.state,
            start_date=claimed.start_date,
            end_date=outcome.end_date,
            duration=max((outcome.end_date - claimed.start_date).total_seconds(), 0.0),
            rendered_fields=outcome.rendered_fields,
            skipped_task_ids=outcome.skipped_task_ids,
            reschedule_at=outcome.next_retry_at,
            xcoms=outcome.held_xcoms,
            has_outlets=claimed.has_outlets,
        )
    )
    if not recorded:
        logger.warning(
            "%s try %s ended %s, but it was changed meanwhile; dropping the outcome",
            label(workload),
            workload.try_number,
            outcome.state.value,
        )
    return recorded


class _Heartbeat:
    """Refreshes ``last_heartbeat_at`` from a daemon thread while the try runs."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        ident: TryIdentity,
        interval: float,
        clock: Callable[[], datetime],
        on_claim_lost: Callable[[], None] | None,
    ) -> None:
        self._sessions = sessions
        self._ident = ident
        self._interval = interval
        self._clock = clock
        self._on_claim_lost = on_claim_lost
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tradewind-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                alive = heartbeat_try(self._sessions, self._ident, now=self._clock())
            except Exception:  # a database hiccup: the next beat may succeed
                logger.warning("Heartbeat of %s failed", label(self._ident), exc_info=True)
                continue
            if not alive and not self._stopped.is_set():
                logger.warning("%s is no longer running: it was changed", label(self._ident))
                if self._on_claim_lost is not None:
                    self._on_claim_lost()
                return


@functools.cache
def _hostname() -> str:
    return socket.gethostname()


@functools.cache
def _unixname() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return str(os.getuid())
