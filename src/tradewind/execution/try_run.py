"""One claimed try, run in the calling process: the part of a worker's job with no database.

:func:`execute_claimed` is what runs a try once it has been claimed: it imports the
DAG (through a :class:`DagCache`), builds the task instance and the template context,
runs :func:`~tradewind.execution.runner.run_task_try` with the try's log captured,
and returns the outcome for the caller to record. Its XComs, Variables and
Connections come from :class:`TryServices`: the database in the inline executor
(``tradewind.execution.worker.database_services``), the worker over a pipe in a
task process (``tradewind.executors.task_channel``). This module imports no database
library, so neither does a task process (an import-linter contract keeps it so):
its memory is then a quarter of what it was, and forking it and its exit cost that
much less.

DAGs come from a :class:`DagCache`: the file named by the workload is imported once
per (path, mtime) in a process, so a warm process (and every process forked from
it) finds the DAG already imported. Importing needs ``tradewind.dag_processing``,
which sits above this layer, so the loader is passed in (``collect_dags``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import traceback
import weakref
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tradewind.config import Settings
from tradewind.errors import NotFound
from tradewind.execution.accessors import (
    ConnectionAccessor,
    ConnectionFetch,
    VariableAccessor,
    VariableFetch,
)
from tradewind.execution.claimed import ClaimedTry, TryIdentity
from tradewind.execution.in_process_run import InProcessDagRun
from tradewind.execution.memory import LocalTaskInstance, XComStore
from tradewind.execution.outcome import TryOutcome
from tradewind.execution.runner import run_task_try
from tradewind.execution.secrets_masker import (
    MaskingConnectionAccessor,
    MaskingVariableAccessor,
    SecretsMasker,
)
from tradewind.execution.task_logging import TASK_LOGGER_NAME, capture_task_log, task_log_path
from tradewind.execution.try_xcoms import TryXComStore
from tradewind.sdk.context import build_template_context
from tradewind.sdk.dag import DAG
from tradewind.sdk.states import TaskInstanceState
from tradewind.sdk.templating import precompile_templates

logger = logging.getLogger(__name__)
task_log = logging.getLogger(TASK_LOGGER_NAME)


@dataclass(frozen=True)
class TryServices:
    """Where a try's XComs, Variables and Connections come from.

    Attributes:
        xcoms: the XCom store (the try's return value is held apart from it, see
            :mod:`tradewind.execution.try_xcoms`).
        variable: a Variable's stored text by key.
        connection: a Connection by id.
    """

    xcoms: XComStore
    variable: VariableFetch
    connection: ConnectionFetch


def _utcnow() -> datetime:
    return datetime.now(UTC)


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
        self._precompiled: weakref.WeakSet[DAG] = weakref.WeakSet()

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
        """Import ``fileloc`` now if needed and compile the DAG's templates (a forker,
        before forking the process that will run one of its tries); never raises."""
        try:
            dag = self.get(fileloc, dag_id)
            if dag not in self._precompiled:  # once per imported DAG object
                precompile_templates(dag)
                self._precompiled.add(dag)
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


def execute_claimed(
    workload: Workload,
    claimed: ClaimedTry,
    *,
    services: TryServices,
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
            outcome = _execute(workload, claimed, services, dag_cache, masker, clock)
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


def _execute(
    workload: Workload,
    claimed: ClaimedTry,
    services: TryServices,
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
        store = TryXComStore(services.xcoms, this_ti, cleared_at_claim=True)
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
            var=MaskingVariableAccessor(VariableAccessor(services.variable), masker),
            conn=MaskingConnectionAccessor(ConnectionAccessor(services.connection), masker),
        )
    except Exception as exc:
        task_log.error("Could not start %s", label(workload), exc_info=exc)
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


def label(ident: TryIdentity) -> str:
    """How logs name a try's task instance, as Airflow does."""
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
