"""Task instances left ``queued`` with no one to run them: reset or fail them.

A try is queued in the tick's transaction and handed to the executor only after the
commit, so a scheduler that dies in between (or whose executor dies with workloads
not yet started) leaves rows ``queued`` that no worker will ever claim. Two checks
find them, run by the loop in its tick transaction:

* **Orphans** (Airflow's "adopt or reset orphaned tasks"), every ``[scheduler]
  orphaned_tasks_check_interval`` seconds and on start. First, scheduler jobs that
  are dead are marked ``failed``: a heartbeat older than ``[scheduler]
  scheduler_health_check_threshold``, or, on this host, a pid that no longer runs
  (a scheduler restarted at once after ``kill -9`` need not wait for the threshold).
  Then every ``queued`` task instance of a running run queued by a job that is not
  ``running`` (or no longer exists) goes back to ``scheduled``.
* **Stuck in queued**, every ``[scheduler] task_queued_timeout_check_interval``
  seconds: a try this scheduler queued more than ``[scheduler] task_queued_timeout``
  seconds ago that no worker claimed goes back to ``scheduled``, at most
  ``[scheduler] num_stuck_in_queued_retries`` times since the task instance last
  ran; after that it is failed (retried if it has retries left), as in Airflow 2.10.

**Try numbers.** Queueing gives a try its number (``try_number + 1``) and the worker
claims exactly that number (``queued -> running`` on ``(id, try_number)``). A reset
keeps ``try_number``: the next queueing gives the next number, so a stale workload of
the reset try, should it still reach a worker, fails its claim. Nothing ever runs
under the old number: no try runs twice whatever the timing. The number the reset
try consumed is not held against the task's retries: ``max_tries`` grows by one, and
the audit log records the reset (events ``reset orphaned task``, ``stuck in queued
reschedule``, ``stuck in queued tries exceeded``), which explains the gap in the
try numbers (a try number without a log file never started).

Running tries are not touched here: their worker heartbeats them, whether or not the
scheduler that queued them is alive (see ``docs/architecture.md``), and the zombie
check of the loop handles the ones that stop.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.config import SchedulerSettings
from tradewind.scheduler.apply import fail_tries
from tradewind.storage.repositories import jobs
from tradewind.storage.tables import DagRunRow, JobRow, LogRow, TaskInstanceRow

logger = logging.getLogger(__name__)

EVENT_ORPHAN = "reset orphaned task"
EVENT_STUCK = "stuck in queued reschedule"
EVENT_STUCK_FAILED = "stuck in queued tries exceeded"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ResetTry:
    """A queued try that was put back to ``scheduled`` (or failed: ``state``)."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    state: str


class QueuedRecovery:
    """When the loop runs the two checks: both on the first tick, then each at its own
    interval (``started`` and :attr:`next_due` are ``time.monotonic()`` seconds)."""

    def __init__(self, config: SchedulerSettings) -> None:
        self.config = config
        self._next_orphan_check = 0.0
        self._next_stuck_check = 0.0

    @property
    def next_due(self) -> float:
        return min(self._next_orphan_check, self._next_stuck_check)

    def check(self, session: Session, now: datetime, started: float, job_id: int | None) -> int:
        """Run the checks that are due, in the caller's transaction; how many tries changed."""
        changed = 0
        if started >= self._next_orphan_check:
            mark_dead_schedulers(
                session, now, threshold=self.config.scheduler_health_check_threshold,
                hostname=socket.gethostname(), own_job_id=job_id,
            )  # fmt: skip
            changed += len(reset_orphaned_tis(session, now))
            self._next_orphan_check = started + self.config.orphaned_tasks_check_interval
        if started >= self._next_stuck_check and job_id is not None:
            stuck = handle_stuck_queued(
                session, now, job_id=job_id, timeout=self.config.task_queued_timeout,
                max_reschedules=self.config.num_stuck_in_queued_retries,
            )  # fmt: skip
            changed += len(stuck)
            self._next_stuck_check = started + self.config.task_queued_timeout_check_interval
        return changed


def mark_dead_schedulers(
    session: Session, now: datetime, *, threshold: float, hostname: str, own_job_id: int | None
) -> list[int]:
    """Mark ``failed`` the running scheduler jobs that are dead; return their ids.

    Dead: no heartbeat for ``threshold`` seconds, or started on ``hostname`` (this
    host) by a process that no longer exists, or by this very process under another
    job id (a restart that was given the same pid, as in a container).
    """
    job = JobRow
    candidates = session.execute(
        sa.select(job.id, job.hostname, job.pid, job.latest_heartbeat).where(
            job.job_type == jobs.SCHEDULER, job.state == "running"
        )
    ).all()
    stale_before = now - timedelta(seconds=threshold)
    dead = [
        row.id
        for row in candidates
        if row.id != own_job_id
        and (
            row.latest_heartbeat is None
            or row.latest_heartbeat < stale_before
            or (row.hostname == hostname and not _pid_is_other_live_process(row.pid))
        )
    ]
    if dead:
        session.execute(
            sa.update(job)
            .where(job.id.in_(dead), job.state == "running")
            .values(state="failed", end_date=now)
            .execution_options(synchronize_session=False)
        )
        logger.warning("Scheduler job(s) %s are dead: marked failed", dead)
    return dead


def reset_orphaned_tis(session: Session, now: datetime) -> list[ResetTry]:
    """Put back to ``scheduled`` the queued tries of running runs whose queuing job is
    not running (see the module docstring); one guarded UPDATE."""
    ti = TaskInstanceRow
    live_jobs = sa.select(JobRow.id).where(JobRow.state == "running")
    run_is_running = (
        sa.select(DagRunRow.id)
        .where(
            DagRunRow.dag_id == ti.dag_id,
            DagRunRow.run_id == ti.run_id,
            DagRunRow.state == "running",
        )
        .exists()
    )
    reset = _reschedule(
        session,
        now,
        ti.state == "queued",
        ti.queued_by_job_id.is_not(None),
        ti.queued_by_job_id.not_in(live_jobs),
        run_is_running,
    )
    _audit(session, now, reset, EVENT_ORPHAN)
    for one in reset:
        logger.warning(
            "Reset orphaned %s.%s (run %s, try %d): its scheduler is gone",
            one.dag_id, one.task_id, one.run_id, one.try_number,
        )  # fmt: skip
    return reset


def handle_stuck_queued(
    session: Session, now: datetime, *, job_id: int, timeout: float, max_reschedules: int
) -> list[ResetTry]:
    """Reschedule (or fail, after ``max_reschedules``) the tries ``job_id`` queued more
    than ``timeout`` seconds ago that no worker claimed."""
    ti = TaskInstanceRow
    stuck = session.execute(
        sa.select(
            ti.id, ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number, ti.start_date
        ).where(
            ti.state == "queued",
            ti.queued_by_job_id == job_id,
            ti.queued_dttm < now - timedelta(seconds=timeout),
        )
    ).all()
    handled: list[ResetTry] = []
    for row in stuck:
        this_try = (ti.id == row.id, ti.state == "queued", ti.try_number == row.try_number)
        key = ResetTry(*row[1:6], state="queued")
        if _times_stuck(session, key, row.start_date or _EPOCH) < max_reschedules:
            done = _reschedule(session, now, *this_try)
            _audit(session, now, done, EVENT_STUCK)
        else:
            found = fail_tries(session, now, *this_try)
            done = [ResetTry(*row[1:6], state=state) for *_, state in found]
            _audit(session, now, done, EVENT_STUCK_FAILED)
        for one in done:
            logger.warning(
                "%s.%s (run %s, try %d) was queued for more than %ss: now %s",
                one.dag_id, one.task_id, one.run_id, one.try_number, timeout, one.state,
            )  # fmt: skip
        handled += done
    return handled


def _reschedule(session: Session, now: datetime, *where: sa.ColumnElement[bool]) -> list[ResetTry]:
    ti = TaskInstanceRow
    rows = session.execute(
        sa.update(ti)
        .where(*where)
        .values(
            state="scheduled",
            max_tries=ti.max_tries + 1,
            queued_by_job_id=None,
            queued_dttm=None,
            updated_at=now,
        )
        .returning(ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number)
        .execution_options(synchronize_session=False)
    ).all()
    return [ResetTry(*row, state="scheduled") for row in rows]


def _times_stuck(session: Session, row: ResetTry, since: datetime) -> int:
    log = LogRow
    count = session.scalar(
        sa.select(sa.func.count())
        .select_from(log)
        .where(
            log.event == EVENT_STUCK,
            log.dag_id == row.dag_id,
            log.run_id == row.run_id,
            log.task_id == row.task_id,
            log.map_index == row.map_index,
            log.dttm >= since,
        )
    )
    return int(count or 0)


def _audit(session: Session, now: datetime, tries: list[ResetTry], event: str) -> None:
    if tries:
        session.execute(
            sa.insert(LogRow),
            [
                {
                    "dttm": now,
                    "dag_id": one.dag_id,
                    "run_id": one.run_id,
                    "task_id": one.task_id,
                    "map_index": one.map_index,
                    "try_number": one.try_number,
                    "event": event,
                    "owner": "scheduler",
                    "extra": f"try {one.try_number} never started; now {one.state}",
                }
                for one in tries
            ],
        )


def _pid_is_other_live_process(pid: int | None) -> bool:
    """Whether ``pid`` runs on this host and is not this process (a zombie is dead)."""
    if pid is None or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True
