"""The in-process DAG runner behind ``tradewind dags test`` and ``tasks test``.

Like Airflow's ``dag.test()``: one DAG run, in this process, one task at a time
in topological order, with nothing recorded in the metadata database. Each try
goes through the same :func:`run_task_try` a worker uses, with an in-memory
task instance and XCom store, and writes the same per-try log file.

The loop is the scheduler's decision made small: a task whose upstream tasks
are finished has its trigger rule evaluated (``tradewind.sdk.trigger_rules``)
and is run, skipped or marked ``upstream_failed``; a task a branch or short
circuit asked to skip is skipped without running; a failed try with retries
left runs again once its retry delay has passed (waiting with the injected
``sleep``). The run ends when every task is finished: ``failed`` if any leaf
task failed or is ``upstream_failed``, else ``success``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tradewind.execution.in_process_run import (
    DagTestResult,
    InProcessDagRun,
    InProcessRun,
    ReportCallback,
    TaskReport,
)
from tradewind.execution.memory import InMemoryXComStore
from tradewind.execution.secrets_masker import SecretsMasker
from tradewind.sdk.dag import DAG
from tradewind.sdk.time import as_utc

__all__ = [
    "DagTestResult",
    "InProcessDagRun",
    "ReportCallback",
    "TaskReport",
    "run_dag_in_process",
    "run_single_task",
]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def run_dag_in_process(
    dag: DAG,
    *,
    logical_date: datetime | None = None,
    conf: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    xcom_store: InMemoryXComStore | None = None,
    variables: Any = None,
    connections: Any = None,
    log_folder: Path | str | None = None,
    echo: bool = False,
    clock: Callable[[], datetime] = _utcnow,
    sleep: Callable[[float], None] = time.sleep,
    on_report: ReportCallback | None = None,
    masker: SecretsMasker | None = None,
    console: TextIO | None = None,
) -> DagTestResult:
    """Run every task of ``dag`` once (plus retries), sequentially, in this process.

    Args:
        dag: the DAG; its dependencies must have no cycle.
        logical_date: the run's logical date; None means now (``clock()``).
        conf: the run's conf, validated against the DAG's params.
        run_id: None generates ``manual__<logical date ISO>``.
        xcom_store: where XComs go; a fresh store when None. The run's earlier
            values in it are cleared first.
        variables: a ``{key: value}`` mapping or a template ``var`` accessor.
        connections: a ``{conn_id: connection or field dict}`` mapping or a
            template ``conn`` accessor.
        log_folder: the ``[logging] base_log_folder``; None writes no log files.
        echo: copy every task log line to ``console`` (stdout by default).
        clock: returns now (UTC); tests freeze it.
        sleep: waits a number of seconds before a retry is due; tests advance
            their clock with it instead of waiting.
        on_report: called with every :class:`TaskReport` as it happens.
        masker: secrets to mask in logs; a new one when None. Connection passwords
            and sensitive variables given as mappings are registered up front,
            those of accessors when a task reads them.

    Raises:
        InvalidInput: ``conf`` is not a mapping or breaks a Param of the DAG.
        CycleError: the DAG's dependencies have a cycle.
    """
    run = InProcessRun.start(
        dag,
        logical_date=_logical_date(logical_date, clock),
        conf=conf,
        run_id=run_id,
        xcom_store=xcom_store or InMemoryXComStore(),
        masker=masker if masker is not None else SecretsMasker(),
        variables=variables,
        connections=connections,
        log_folder=Path(log_folder) if log_folder is not None else None,
        echo=echo,
        console=console,
        clock=clock,
        on_report=on_report,
    )
    return run.run_all(sleep)


def run_single_task(
    dag: DAG,
    task_id: str,
    *,
    logical_date: datetime | None = None,
    conf: Mapping[str, Any] | None = None,
    task_params: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    xcom_store: InMemoryXComStore | None = None,
    variables: Any = None,
    connections: Any = None,
    log_folder: Path | str | None = None,
    echo: bool = True,
    clock: Callable[[], datetime] = _utcnow,
    masker: SecretsMasker | None = None,
    console: TextIO | None = None,
) -> TaskReport:
    """Run one try of one task, ignoring its upstream tasks' states (``tasks test``).

    Nothing is recorded; XComs it pushes go to ``xcom_store`` (a throw-away one when
    None), and pulls from upstream tasks find nothing unless that store has them.
    ``task_params`` override the params, as ``tasks test --task-params`` does; the
    other arguments are those of :func:`run_dag_in_process`.

    Raises:
        NotFound: the DAG has no task ``task_id``.
        InvalidInput: ``conf`` breaks a Param of the DAG.
    """
    task = dag.get_task(task_id)
    run = InProcessRun.start(
        dag,
        logical_date=_logical_date(logical_date, clock),
        conf={**(conf or {}), **(task_params or {})},
        run_id=run_id,
        xcom_store=xcom_store or InMemoryXComStore(),
        masker=masker if masker is not None else SecretsMasker(),
        variables=variables,
        connections=connections,
        log_folder=Path(log_folder) if log_folder is not None else None,
        echo=echo,
        console=console,
        clock=clock,
        on_report=None,
        clear_xcom=False,
        test_mode=True,
    )
    return run.run_try(task)


def _logical_date(value: datetime | None, clock: Callable[[], datetime]) -> datetime:
    """The run's logical date: ``value`` in UTC (naive means UTC), or now."""
    return as_utc(value) or clock()
