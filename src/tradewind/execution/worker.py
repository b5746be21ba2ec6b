"""The worker side of one task try: claim it, run it, record it — in the database.

:func:`run_workload` is what every executor runs for a workload, in the calling
process (``InlineExecutor``) or in a process forked for the try (``LocalExecutor``):

1. claim the try with a guarded ``queued -> running`` (see ``db_task_instance``);
   a try that is not ``queued`` with this try number any more is not run — this is
   what guarantees that no try runs twice;
2. run it with :func:`~tradewind.execution.runner.run_task_try` (the same runner
   as ``dags test``), with a ``LocalTaskInstance`` over the database XCom store, the
   template ``var``/``conn`` read from the database and masked, and the try's log
   at ``task_log_path(base_log_folder, ...)``; a heartbeat thread meanwhile keeps
   ``last_heartbeat_at`` fresh so the scheduler can tell a live try from a zombie;
3. record the outcome with a guarded ``running -> <final>``.

No transaction is open while the task runs: each step is its own short one.

DAGs come from a :class:`DagCache`: the file named by the workload is imported once
per (path, mtime) in a process, so a warm worker (and every process forked from
it) finds the DAG already imported. Importing needs ``tradewind.dag_processing``,
which sits above this layer, so the loader is passed in (``collect_dags``).
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import logging
import os
import socket
import stat
import threading
import traceback
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings
from tradewind.errors import NotFound
from tradewind.execution.database_accessors import (
    DatabaseConnectionAccessor,
    DatabaseVariableAccessor,
)
from tradewind.execution.db_task_instance import (
    ClaimedTry,
    TryIdentity,
    claim_try,
    heartbeat_try,
    record_try,
)
from tradewind.execution.db_xcom import DatabaseXComStore
from tradewind.execution.in_process_run import InProcessDagRun
from tradewind.execution.memory import LocalTaskInstance
from tradewind.execution.outcome import TryOutcome
from tradewind.execution.runner import run_task_try
from tradewind.execution.secrets_masker import (
    MaskingConnectionAccessor,
    MaskingVariableAccessor,
    SecretsMasker,
)
from tradewind.execution.task_logging import TASK_LOGGER_NAME, capture_task_log, task_log_path
from tradewind.sdk.context import build_template_context
from tradewind.sdk.dag import DAG
from tradewind.sdk.states import TaskInstanceState

logger = logging.getLogger(__name__)
task_log = logging.getLogger(TASK_LOGGER_NAME)

#: Longest interval between two heartbeats of a running try (seconds); shorter when
#: ``[scheduler] scheduler_zombie_task_threshold`` is small, so 4 beats fit in it.
DEFAULT_HEARTBEAT_INTERVAL = 5.0


class Workload(TryIdentity, Protocol):
    """What :func:`run_workload` needs of a ``TaskWorkload``: the try and its DAG file."""

    @property
    def fileloc(self) -> str: ...


class DagLoader(Protocol):
    """Imports a DAG file: ``tradewind.dag_processing.processor.collect_dags`` fits.

    Returns the file's valid DAGs by dag_id; import errors go to ``errors`` by file.
    """

    def __call__(
        self, path: str, /, *, errors: dict[str, str] | None = None
    ) -> Mapping[str, DAG]: ...


class DagCache:
    """DAG files imported in this process, re-imported only when their mtime changes.

    Not thread-safe: a worker imports from its one main thread.
    """

    def __init__(self, loader: DagLoader) -> None:
        self._loader = loader
        self._files: dict[str, tuple[int, Mapping[str, DAG], dict[str, str]]] = {}

    def get(self, fileloc: str, dag_id: str) -> DAG:
        """The DAG ``dag_id`` of ``fileloc``, importing the file if it is new or changed.

        Raises:
            NotFound: the file does not exist, failed to import, or defines no such DAG.
        """
        mtime = _mtime(fileloc)
        cached = self._files.get(fileloc)
        if cached is None or cached[0] != mtime:
            errors: dict[str, str] = {}
            dags = self._loader(fileloc, errors=errors)
            cached = self._files[fileloc] = (mtime, dags, errors)
        _, dags, errors = cached
        dag = dags.get(dag_id)
        if dag is None:
            details = "\n".join(errors.values())
            raise NotFound(
                f"DAG {dag_id!r} could not be found in {fileloc}"
                + (f"; it failed to import:\n{details}" if details else "")
            )
        return dag

    def preload(self, fileloc: str, dag_id: str) -> None:
        """Import ``fileloc`` now if needed (a warm worker before forking); never raises."""
        try:
            self.get(fileloc, dag_id)
        except Exception:  # reported by the try that needs the DAG, in its own log
            logger.debug("Preloading %s failed", fileloc, exc_info=True)


def _mtime(fileloc: str) -> int:
    """mtime of the file, or of the archive holding it (``archive.zip/member.py``)."""
    path = Path(fileloc)
    for candidate in (path, *path.parents):
        try:
            found = os.stat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if candidate == path or stat.S_ISREG(found.st_mode):
            return found.st_mtime_ns
        break  # an existing folder: the file itself is missing
    raise NotFound(f"DAG file {fileloc} does not exist")


def _utcnow() -> datetime:
    return datetime.now(UTC)


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
            sessions=session_factory,
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
    claimed = claim_try(
        sessions,
        workload,
        now=clock(),
        hostname=_hostname(),
        pid=os.getpid() if pid is None else pid,
        unixname=_unixname(),
    )
    if claimed is None:
        logger.info(
            "Not running %s try %s: it is not queued any more",
            _label(workload),
            workload.try_number,
        )
    return claimed


def execute_claimed(
    workload: Workload,
    claimed: ClaimedTry,
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    dag_cache: DagCache,
    clock: Callable[[], datetime] = _utcnow,
    around_task: Callable[[], AbstractContextManager[Any]] | None = None,
) -> TryOutcome:
    """Run a claimed try with its log captured; the outcome is not recorded yet.

    Returns the outcome ready for :func:`record_outcome` and safe to send to another
    process: rendered fields masked, no return value (already pushed to XCom) and no
    deferral (deferring is not supported by workers yet: it fails the try).
    """
    masker = SecretsMasker()
    path = task_log_path(
        settings.logging.base_log_folder,
        dag_id=workload.dag_id,
        run_id=workload.run_id,
        task_id=workload.task_id,
        try_number=workload.try_number,
        map_index=workload.map_index,
    )
    with capture_task_log(path, masker=masker):
        with around_task() if around_task is not None else contextlib.nullcontext():
            outcome = _execute(workload, claimed, sessions, dag_cache, masker, clock)
    if outcome.state == TaskInstanceState.DEFERRED:
        outcome = replace(
            outcome,
            state=TaskInstanceState.FAILED,
            error="TaskDeferred: deferrable tasks are not supported by this worker yet",
        )
    return replace(
        outcome,
        return_value=None,
        deferral=None,
        rendered_fields=_masked(outcome.rendered_fields, masker),
    )


def record_outcome(
    workload: Workload,
    claimed: ClaimedTry,
    outcome: TryOutcome,
    *,
    sessions: sessionmaker[Session],
) -> bool:
    """Record how the try ended (guarded ``running -> <state>``); False, logged, when the
    try was changed meanwhile (cleared, marked) and the outcome was dropped."""
    recorded = record_try(
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
    )
    if not recorded:
        logger.warning(
            "%s try %s ended %s, but it was changed meanwhile; dropping the outcome",
            _label(workload),
            workload.try_number,
            outcome.state.value,
        )
    return recorded


def _execute(
    workload: Workload,
    claimed: ClaimedTry,
    sessions: sessionmaker[Session],
    dag_cache: DagCache,
    masker: SecretsMasker,
    clock: Callable[[], datetime],
) -> TryOutcome:
    """Build the task instance and context, then run the try; a DAG or task that cannot
    be loaded (or a context that cannot be built) fails the try, saying why in its log."""
    try:
        dag = dag_cache.get(workload.fileloc, workload.dag_id)
        task = dag.get_task(workload.task_id)
        this_ti = (workload.dag_id, workload.run_id, workload.task_id, workload.map_index)
        store = DatabaseXComStore(sessions, cleared=this_ti, holder=this_ti)
        ti = LocalTaskInstance(
            dag_id=workload.dag_id,
            task_id=workload.task_id,
            run_id=workload.run_id,
            xcom_store=store,
            try_number=workload.try_number,
            max_tries=claimed.max_tries if claimed.max_tries >= 0 else task.retries,
            map_index=workload.map_index,
            task=task,
            logical_date=claimed.logical_date,
            state=TaskInstanceState.RUNNING.value,
            start_date=claimed.start_date,
        )
        dag_run = InProcessDagRun(
            dag_id=workload.dag_id,
            run_id=workload.run_id,
            logical_date=claimed.logical_date,
            data_interval_start=claimed.data_interval_start or claimed.logical_date,
            data_interval_end=claimed.data_interval_end or claimed.logical_date,
            conf=claimed.conf,
            start_date=claimed.run_start_date or claimed.start_date,
            run_type=claimed.run_type,
            external_trigger=claimed.external_trigger,
            state=claimed.run_state,
        )
        context = build_template_context(
            dag=dag,
            task=task,
            run_id=workload.run_id,
            logical_date=claimed.logical_date,
            data_interval_start=dag_run.data_interval_start,
            data_interval_end=dag_run.data_interval_end,
            run_type=claimed.run_type,
            conf=claimed.conf,
            ti=ti,
            dag_run=dag_run,
            var=MaskingVariableAccessor(DatabaseVariableAccessor(sessions), masker),
            conn=MaskingConnectionAccessor(DatabaseConnectionAccessor(sessions), masker),
        )
    except Exception as exc:
        task_log.error("Could not start %s", _label(workload), exc_info=exc)
        end = clock()
        return TryOutcome(
            state=TaskInstanceState.FAILED,
            return_value=None,
            error=f"{type(exc).__name__}: {exc}",
            traceback="".join(traceback.format_exception(exc)),
            duration=max((end - claimed.start_date).total_seconds(), 0.0),
            start_date=claimed.start_date,
            end_date=end,
        )
    outcome = run_task_try(task, context=context, ti=ti, clock=clock, push_return_value=store.hold)
    return replace(outcome, held_xcoms=store.held)


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
                logger.warning("Heartbeat of %s failed", _label(self._ident), exc_info=True)
                continue
            if not alive and not self._stopped.is_set():
                logger.warning("%s is no longer running: it was changed", _label(self._ident))
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


def _label(ident: TryIdentity) -> str:
    suffix = f"[{ident.map_index}]" if ident.map_index >= 0 else ""
    return f"<TaskInstance {ident.dag_id}.{ident.task_id}{suffix} {ident.run_id}>"


def _masked(value: Any, masker: SecretsMasker) -> Any:
    """``value`` as JSON-able data with every string masked (rendered template fields)."""
    if isinstance(value, str):
        return masker.mask(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(key): _masked(item, masker) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(item, masker) for item in value]
    return masker.mask(repr(value))
