"""The scheduler loop: tick when something happened, sleep in ``select`` otherwise.

One *tick* is one ``BEGIN IMMEDIATE`` transaction: record the heartbeat and reap
zombies when due, fill missing ``next_dagrun*`` fields (:mod:`.next_run`), create the
runs of DAGs whose datasets were updated (:mod:`.dataset_runs`), read a
:class:`~tradewind.scheduler.model.Snapshot` (:mod:`.snapshot`), call the pure planner,
apply its decisions with guarded updates (:mod:`.apply`), commit; only then are the
queued task instances sent to the executor.

Between ticks the loop waits in ``select`` on the executor's event descriptor and the
wake-up sockets (:mod:`tradewind.storage.wakeup`), so a triggered run or a finished
task is acted on within milliseconds; it ticks again at once when the last tick changed
anything but the queueing of tries (queued tries change nothing until they report back),
and at the latest every ``[scheduler] sweep_interval`` seconds, the safety net
for a lost wake-up. Executor messages that change nothing the planner reads (a try
started; a task process exited while no ready try lacked a slot) wake the loop but
cause no tick: a try sends four messages, and a tick per message was a write
transaction each, in the way of the workers' own. All pending events are drained
before the next tick, so a burst of finished tries costs one tick.

Tuned by ``[scheduler] scheduler_heartbeat_sec`` (the
``SchedulerJob`` heartbeat read by ``/health``), ``zombie_detection_interval`` and
``scheduler_zombie_task_threshold`` (running tries whose worker stopped heartbeating
are retried or failed), and ``catchup_by_default``; limits come from ``[core]``.

A database error never ends the loop: it is logged and the tick is retried after 1, 2,
4, 8 then 10 seconds. DAG files are parsed by ``DagFileProcessor``, which the
composition root (``tradewind scheduler``, ``standalone``) runs beside this loop: the
scheduler package does not import ``dag_processing`` (sibling layers).
"""

from __future__ import annotations

import getpass
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings
from tradewind.errors import DatabaseError
from tradewind.executors.base import Executor, TaskEvent
from tradewind.scheduler import planner
from tradewind.scheduler.active_runs import ActiveRuns
from tradewind.scheduler.apply import AppliedCounts, apply_decisions, fail_tries
from tradewind.scheduler.callbacks import CallbackRunner
from tradewind.scheduler.dataset_runs import create_dataset_triggered_runs
from tradewind.scheduler.model import Decisions, Snapshot
from tradewind.scheduler.next_run import NextRunMemory, initialize_next_dagruns
from tradewind.scheduler.recovery import QueuedRecovery
from tradewind.scheduler.snapshot import DagCache, read_snapshot
from tradewind.storage.engine import transaction
from tradewind.storage.repositories import jobs
from tradewind.storage.tables import JobRow, TaskInstanceRow
from tradewind.storage.wakeup import SchedulerWakeup

logger = logging.getLogger(__name__)

#: Seconds between event polls when the executor offers no descriptor to select on.
EVENT_POLL_INTERVAL = 0.01
#: Longest single ``select``: how soon a stop requested without a wake-up is noticed.
MAX_SELECT = 1.0
#: Seconds to wait after a failed tick, doubled after each further failure ...
INITIAL_BACKOFF = 1.0
#: ... up to this many.
MAX_BACKOFF = 10.0
#: Final states a worker reports; an event carrying one calls for a tick.
_FINAL_STATES = frozenset(
    {"success", "failed", "skipped", "up_for_retry", "up_for_reschedule", "deferred"}
)


@dataclass
class TickStats(AppliedCounts):
    """What one tick did: what its decisions changed, plus the tick's own chores;
    ``calls_for_another`` says whether to tick again at once."""

    next_runs_computed: int = 0
    zombies: int = 0
    tis_reset: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return any(value for name, value in vars(self).items() if name != "seconds")

    @property
    def calls_for_another(self) -> bool:
        """True when the next tick may find more to do: anything changed but the
        queueing of tries. Tries only queued change nothing the planner reads until
        they report back (which wakes the loop); an immediate tick would find nothing,
        and its write transaction would hold up the workers claiming those very tries.
        """
        return any(
            value for name, value in vars(self).items() if name not in ("seconds", "tis_queued")
        )


class Scheduler:
    """Creates runs, decides what is ready, queues it, and reacts to what happened.

    Args:
        settings: the whole configuration (``[scheduler]`` and the ``[core]`` limits).
        session_factory: sessions of the metadata database.
        executor: already started; the caller owns its lifecycle (``start``/``end``).
        clock: returns the current aware UTC datetime (frozen in tests).
        wakeup: what :meth:`run` selects on besides the executor; None for none
            (then only the executor's events and the sweep wake it).
        plan: the planner; :func:`tradewind.scheduler.planner.plan` unless a test
            substitutes one.
        callbacks: runs DAG callback requests (:mod:`.callbacks`); None runs none.
    """

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        executor: Executor,
        clock: Callable[[], datetime],
        wakeup: SchedulerWakeup | None = None,
        *,
        plan: Callable[[Snapshot], Decisions] = planner.plan,
        callbacks: CallbackRunner | None = None,
        supervise: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.executor = executor
        self.clock = clock
        self.wakeup = wakeup
        self.plan = plan
        self.callbacks = callbacks
        #: Called once per loop iteration (e.g. restarting a dead DAG processor child).
        self.supervise = supervise
        self.dag_cache = DagCache()
        self.next_runs = NextRunMemory()
        self.active_runs = ActiveRuns()
        self.job_id: int | None = None
        self._stop = threading.Event()
        self._pending_events: list[TaskEvent] = []
        self._problems: set[str] = set()
        self._next_heartbeat = 0.0
        self._next_zombie_check = 0.0
        self.recovery = QueuedRecovery(settings.scheduler)
        self._next_sweep = 0.0
        #: The last tick may have left ready tries waiting for executor slots.
        self._slot_limited = False

    # -- one tick --------------------------------------------------------------------

    def tick(self, *, full: bool = True) -> TickStats:
        """Run one tick (see the module docstring) and send what it queued.

        Args:
            full: also fill missing ``next_dagrun*`` fields; the loop skips that on
                ticks caused only by executor events, which cannot change them.

        Raises:
            SQLAlchemyError, DatabaseError: the transaction failed; nothing was sent.
        """
        started = time.monotonic()
        now = self.clock()
        counts = AppliedCounts()
        computed = zombies = reset = 0
        with transaction(self.session_factory, sqlite_begin="IMMEDIATE") as session:
            self._heartbeat(session, now, started)
            reset = self.recovery.check(session, now, started, self.job_id)
            if full:
                computed = initialize_next_dagruns(
                    session,
                    now=now,
                    catchup_by_default=self.settings.scheduler.catchup_by_default,
                    dag_cache=self.dag_cache,
                    memory=self.next_runs,
                )
                self._next_sweep = started + self.settings.scheduler.sweep_interval
            if started >= self._next_zombie_check:
                zombies = self._reap_zombies(session, now)
                self._next_zombie_check = (
                    started + self.settings.scheduler.zombie_detection_interval
                )
            counts.runs_created += create_dataset_triggered_runs(
                session, now=now, dag_cache=self.dag_cache, job_id=self.job_id,
                default_max_active_runs=self.settings.core.max_active_runs_per_dag,
            )  # fmt: skip
            open_slots = self.executor.open_slots()
            snapshot = read_snapshot(
                session,
                now=now,
                settings=self.settings,
                executor_open_slots=open_slots,
                dag_cache=self.dag_cache,
                active_runs=self.active_runs,
            )
            decisions = self.plan(snapshot)
            workloads = apply_decisions(
                session, decisions, now=now, dag_cache=self.dag_cache, job_id=self.job_id,
                counts=counts,
            )  # fmt: skip
        self._report(decisions.problems)
        self._slot_limited = counts.tis_queued >= open_slots
        for workload in workloads:
            try:
                self.executor.queue(workload)
            except Exception:  # one refused workload must not strand the others
                logger.exception("Executor refused %s", workload)
        return TickStats(
            **vars(counts),
            next_runs_computed=computed,
            zombies=zombies,
            tis_reset=reset,
            seconds=time.monotonic() - started,
        )

    def _heartbeat(self, session: Session, now: datetime, started: float) -> None:
        if self.job_id is None:
            job = JobRow(
                job_type=jobs.SCHEDULER,
                state="running",
                start_date=now,
                latest_heartbeat=now,
                executor_class=type(self.executor).__name__,
                hostname=socket.gethostname(),
                unixname=_unixname(),
                pid=os.getpid(),
            )
            session.add(job)
            session.flush()
            self.job_id = job.id
        elif started >= self._next_heartbeat:
            session.execute(
                sa.update(JobRow).where(JobRow.id == self.job_id).values(latest_heartbeat=now)
            )
        else:
            return
        self._next_heartbeat = started + self.settings.scheduler.scheduler_heartbeat_sec

    def _reap_zombies(self, session: Session, now: datetime) -> int:
        """Retry or fail running tries whose worker stopped heartbeating (guarded on
        ``running``, so a try that just finished is left alone)."""
        threshold = timedelta(seconds=self.settings.scheduler.scheduler_zombie_task_threshold)
        ti = TaskInstanceRow
        last_sign = sa.func.coalesce(ti.last_heartbeat_at, ti.start_date)
        found = fail_tries(session, now, ti.state == "running", last_sign < now - threshold)
        for dag_id, run_id, task_id, try_number, state in found:
            logger.warning(
                "Zombie: %s.%s (run %s, try %d) sent no heartbeat for %s; now %s",
                dag_id, task_id, run_id, try_number, threshold, state,
            )  # fmt: skip
        return len(found)

    def _report(self, problems: tuple[str, ...]) -> None:
        """Log each planner problem once while it lasts (they repeat every tick)."""
        for problem in set(problems) - self._problems:
            logger.warning("%s", problem)
        self._problems = set(problems)

    # -- executor events -------------------------------------------------------------

    def handle_events(self) -> int:
        """Apply the executor's events; return how many call for a tick.

        A final state needs no write (the worker recorded it) but makes the next run
        ready: tick. A lost try (its worker died) is retried or failed here, guarded on
        its try number and on it not having reached a final state: tick after that too.
        A final state that woke the loop for the tick just run (kept by :meth:`_wait`)
        was already recorded when that tick read, so it does not call for another.
        """
        seen, self._pending_events = self._pending_events, []
        fresh = self.executor.poll_events()
        events = seen + fresh
        lost = [event for event in events if event.lost]
        if lost:
            now = self.clock()
            with transaction(self.session_factory, sqlite_begin="IMMEDIATE") as session:
                for event in lost:
                    ti = TaskInstanceRow
                    found = fail_tries(
                        session,
                        now,
                        ti.id == event.workload.ti_id,
                        ti.try_number == event.workload.try_number,
                        ti.state.in_(("queued", "running")),
                    )
                    if found:
                        logger.warning(
                            "Worker of %s lost (%s); try %d now %s",
                            event.workload.key, event.detail or "no detail",
                            event.workload.try_number, found[0][4],
                        )  # fmt: skip
        return len(lost) + sum(
            1 for event in fresh if not event.lost and event.state in _FINAL_STATES
        )

    # -- the loop --------------------------------------------------------------------

    def wake(self) -> None:
        """Make a waiting :meth:`run` tick at once (in-process callers)."""
        if self.wakeup is not None:
            self.wakeup.wake()

    def request_stop(self) -> None:
        """Ask :meth:`run` to return after the current tick; safe from signal handlers."""
        self._stop.set()
        self.wake()

    def run(self, stop_event: threading.Event | None = None) -> None:
        """Tick and wait until ``stop_event`` is set or :meth:`request_stop` is called.

        Setting ``stop_event`` alone is noticed within :data:`MAX_SELECT` seconds;
        :meth:`request_stop` (which also wakes the loop) at once.
        """
        stop = stop_event if stop_event is not None else self._stop
        self._stop = stop
        backoff = 0.0
        full = True
        try:
            while not stop.is_set():
                try:
                    stats = self.tick(full=full or time.monotonic() >= self._next_sweep)
                    ready_events = self.handle_events()
                    if self.callbacks is not None:
                        self.callbacks.step(self.session_factory, self.job_id, stats.runs_finished)
                    if self.supervise is not None:
                        self.supervise()
                except Exception as exc:
                    backoff = min(MAX_BACKOFF, backoff * 2 or INITIAL_BACKOFF)
                    _log_failure(exc, backoff)
                    stop.wait(backoff)
                    full = True
                    continue
                backoff = 0.0
                full = False
                if stats.calls_for_another or ready_events:
                    continue
                full = self._wait(self._until_due())
        finally:
            if self.callbacks is not None:
                self.callbacks.end(self.session_factory, MAX_SELECT * 5)
            self._end_job()

    def _until_due(self) -> float:
        due = min(
            self._next_sweep, self._next_heartbeat, self._next_zombie_check,
            self.recovery.next_due,
        )  # fmt: skip
        if self.callbacks is not None and self.callbacks.running:  # poll their exits
            due = min(due, time.monotonic() + 5 * EVENT_POLL_INTERVAL)
        return max(0.0, due - time.monotonic())

    def _wait(self, timeout: float) -> bool:
        """Sleep until a wake-up, an executor event calling for a tick, or ``timeout``;
        True on a wake-up (something outside may have changed: the next tick is a full
        one), False on an executor event or the timeout (the sweep decides whether
        that tick is full). Events that call for no tick are kept for
        :meth:`handle_events`."""
        wake_fds = self.wakeup.filenos() if self.wakeup is not None else []
        executor_fd = self.executor.wait_fileno()
        fds = wake_fds + ([executor_fd] if executor_fd is not None else [])
        deadline = time.monotonic() + timeout
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            step = min(remaining, MAX_SELECT)
            if executor_fd is None:
                step = min(step, EVENT_POLL_INTERVAL)
            ready = select.select(fds, [], [], step)[0] if fds else _sleep(step)
            if any(fd in wake_fds for fd in ready):
                assert self.wakeup is not None
                self.wakeup.drain()
                return True
            if ready or executor_fd is None:
                self._pending_events += self.executor.poll_events()
                if self._calls_for_tick(self._pending_events):
                    return False
        return False

    def _calls_for_tick(self, events: list[TaskEvent]) -> bool:
        """Whether ``events`` may make something ready: a try ended, or a slot opened
        that the last tick lacked. ``running`` events and exits alone change nothing the
        planner reads, and ticking on each of them (four messages per try) cost a write
        transaction each, in the way of the workers' own."""
        if any(event.lost or event.state in _FINAL_STATES for event in events):
            return True
        return self._slot_limited and self.executor.open_slots() > 0

    def _end_job(self) -> None:
        if self.job_id is None:
            return
        try:
            with transaction(self.session_factory) as session:
                session.execute(
                    sa.update(JobRow)
                    .where(JobRow.id == self.job_id)
                    .values(state="success", end_date=self.clock())
                )
        except Exception:  # the database may be what stopped us
            logger.warning("Could not record the end of scheduler job %s", self.job_id)


def _log_failure(exc: Exception, backoff: float) -> None:
    if isinstance(exc, sa.exc.SQLAlchemyError | DatabaseError):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        logger.error(
            "Scheduler tick failed on the database (%s); retrying in %.0fs", first, backoff
        )
    else:
        logger.exception("Scheduler tick failed; retrying in %.0fs", backoff)


def _sleep(seconds: float) -> list[int]:
    time.sleep(seconds)
    return []


def _unixname() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None
