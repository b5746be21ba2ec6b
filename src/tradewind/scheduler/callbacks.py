"""DAG-level callbacks: requested when a run finishes, run in forked children.

**Requesting.** :func:`request_dag_callbacks` runs in the tick's transaction, right
after the guarded ``running -> success|failed`` of each run, and inserts a
``callback_request`` row when the DAG has the matching callback (the serialized DAG
says so: ``has_on_success_callback`` / ``has_on_failure_callback``). Finishing the
run and owing its callback are one commit: neither can happen without the other,
and a run finishes once per clearing, so the request is made once.

**Running.** :class:`CallbackRunner` lives in the scheduler process. It claims
requests (``claimed_by_job_id``: unclaimed, or claimed by a job that is not
``running`` any more), forks one child per request, which imports the DAG file with
the DAG loader (as the executors' workers do) and calls the callbacks
(:func:`tradewind.execution.dag_callbacks.run_dag_callbacks`), and deletes the
request once the child has exited. A child running longer than
:data:`CALLBACK_TIMEOUT` is killed; its request is deleted too (the callback did run,
and a hung one would hang again). Callbacks that raise are logged, not retried.

**At least once.** A scheduler that dies after a child ran but before the request
was deleted leaves it claimed by a dead job; the next scheduler (once it has marked
that job failed, see :mod:`.recovery`) runs it again. Callbacks should therefore be
idempotent, as Airflow advises for task callbacks too.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings
from tradewind.execution.dag_callbacks import run_dag_callbacks
from tradewind.execution.try_run import DagLoader
from tradewind.scheduler.model import RunTransition
from tradewind.scheduler.snapshot import DagCache
from tradewind.storage.engine import create_engine_from_settings, session_factory, transaction
from tradewind.storage.tables import CallbackRequestRow, JobRow

logger = logging.getLogger(__name__)

DAG_CALLBACK = "DagCallbackRequest"
#: Seconds one child may run its callbacks before it is killed.
CALLBACK_TIMEOUT = 120.0
#: Children running callbacks at once.
MAX_RUNNING = 4
#: Seconds between looks for requests nobody is running (left by a dead scheduler)
#: when no run of this scheduler finished meanwhile.
CLAIM_INTERVAL = 10.0
#: The run's reason as the planner words it -> Airflow's ``reason`` in the context.
_REASONS = {"success": "success", "task failure": "task_failure", "timed out": "timed_out"}


def request_dag_callbacks(
    session: Session,
    finished: Iterable[tuple[str, str, RunTransition]],
    now: datetime,
    dag_cache: DagCache,
) -> int:
    """Insert a request for each finished ``(dag_id, run_id, transition)`` whose DAG has
    the matching callback; return how many."""
    rows = []
    for dag_id, run_id, transition in finished:
        cached = dag_cache.get(dag_id)
        if cached is None:
            continue
        failure = transition.state == "failed"
        if not (
            cached.dag.has_on_failure_callback if failure else cached.dag.has_on_success_callback
        ):
            continue
        reason = _REASONS.get(transition.reason, transition.reason or transition.state)
        rows.append(
            {
                "created_at": now,
                "priority_weight": 1,
                "callback_type": DAG_CALLBACK,
                "callback_data": {
                    "fileloc": cached.fileloc,
                    "is_failure_callback": failure,
                    "msg": reason,
                },
                "dag_id": dag_id,
                "run_id": run_id,
            }
        )
    if rows:
        session.execute(sa.insert(CallbackRequestRow), rows)
    return len(rows)


@dataclass
class _Child:
    request_id: int
    pid: int
    deadline: float
    label: str


class CallbackRunner:
    """Runs callback requests in forked children, a few at a time.

    Args:
        settings: the database the children connect to.
        dag_loader: imports a DAG file (``collect_dags``).
        max_running: children at once.
        timeout: seconds a child may run before it is killed.
    """

    def __init__(
        self,
        settings: Settings,
        dag_loader: DagLoader,
        *,
        max_running: int = MAX_RUNNING,
        timeout: float = CALLBACK_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.dag_loader = dag_loader
        self.max_running = max_running
        self.timeout = timeout
        self._children: dict[int, _Child] = {}
        self._next_claim = 0.0

    @property
    def running(self) -> int:
        return len(self._children)

    def step(self, sessions: sessionmaker[Session], job_id: int | None, runs_finished: int) -> None:
        """What the loop calls after each tick: collect children that exited, then claim
        and start requests if runs finished in that tick, or on the first call and every
        :data:`CLAIM_INTERVAL` seconds (requests left by a scheduler that died)."""
        self.reap(sessions)
        if job_id is None or not (runs_finished or time.monotonic() >= self._next_claim):
            return
        self._next_claim = time.monotonic() + CLAIM_INTERVAL
        self.start(sessions, job_id, datetime.now(UTC))

    def start(self, sessions: sessionmaker[Session], job_id: int, now: datetime) -> int:
        """Claim requests for ``job_id`` and start a child for each; return how many."""
        free = self.max_running - len(self._children)
        if free <= 0:
            return 0
        cb = CallbackRequestRow
        claimable = sa.or_(
            cb.claimed_by_job_id.is_(None),
            cb.claimed_by_job_id.not_in(sa.select(JobRow.id).where(JobRow.state == "running")),
        )
        with transaction(sessions, sqlite_begin="IMMEDIATE") as session:
            ids = session.scalars(
                sa.select(cb.id)
                .where(claimable)
                .order_by(cb.priority_weight.desc(), cb.id)
                .limit(free)
            ).all()
            if not ids:
                return 0
            claimed = session.execute(
                sa.update(cb)
                .where(cb.id.in_(ids), claimable)
                .values(claimed_by_job_id=job_id, claimed_at=now)
                .returning(cb.id, cb.dag_id, cb.run_id, cb.callback_data)
                .execution_options(synchronize_session=False)
            ).all()
        for row in claimed:
            self._fork(row.id, row.dag_id, row.run_id, dict(row.callback_data))
        return len(claimed)

    def reap(self, sessions: sessionmaker[Session], *, block_until: float | None = None) -> int:
        """Collect children that exited (killing those past their deadline) and delete
        their requests; wait for all of them until ``block_until`` (monotonic) if given."""
        done: list[int] = []
        while True:
            for child in list(self._children.values()):
                if time.monotonic() > child.deadline:
                    logger.error(
                        "Callback %s ran longer than %ss: killed", child.label, self.timeout
                    )
                    _kill(child.pid)
                try:
                    pid, status = os.waitpid(child.pid, os.WNOHANG)
                except ChildProcessError:  # reaped elsewhere: its exit code is unknown
                    pid, status = child.pid, 0
                if pid:
                    code = os.waitstatus_to_exitcode(status)
                    if code:
                        logger.error("Callback %s exited with %d", child.label, code)
                    done.append(self._children.pop(pid).request_id)
            if not self._children or block_until is None or time.monotonic() >= block_until:
                break
            time.sleep(0.02)
        if done:
            with transaction(sessions) as session:
                session.execute(
                    sa.delete(CallbackRequestRow).where(CallbackRequestRow.id.in_(done))
                )
        return len(done)

    def end(self, sessions: sessionmaker[Session], timeout: float) -> None:
        """Wait up to ``timeout`` seconds for running children, then kill the rest; the
        requests of killed children stay, to be run again (at least once)."""
        self.reap(sessions, block_until=time.monotonic() + timeout)
        for child in self._children.values():
            _kill(child.pid)
            os.waitpid(child.pid, 0)
        self._children.clear()

    def _fork(self, request_id: int, dag_id: str, run_id: str, data: dict[str, object]) -> None:
        kind = "on_failure" if data.get("is_failure_callback") else "on_success"
        label = f"{kind}_callback of {dag_id}/{run_id}"
        pid = os.fork()
        if pid == 0:
            _child_main(self.settings, self.dag_loader, dag_id, run_id, data)
        self._children[pid] = _Child(request_id, pid, time.monotonic() + self.timeout, label)


def _child_main(
    settings: Settings, loader: DagLoader, dag_id: str, run_id: str, data: dict[str, object]
) -> NoReturn:
    """The child: its own engine (nothing inherited is used across the fork), the
    callbacks, then ``os._exit``."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        engine = create_engine_from_settings(settings.database, fernet_key=settings.core.fernet_key)
        try:
            run_dag_callbacks(
                session_factory(engine),
                loader,
                dag_id=dag_id,
                run_id=run_id,
                fileloc=str(data["fileloc"]),
                is_failure=bool(data["is_failure_callback"]),
                reason=str(data["msg"]),
            )
        finally:
            engine.dispose()
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
