"""The loop of an in-process DAG run, and what it reports.

:class:`InProcessRun` is the scheduler's decision made small, for
``tradewind dags test`` (see :mod:`tradewind.execution.dag_test`): a task whose
upstream tasks are finished has its trigger rule evaluated and is run, skipped or
marked ``upstream_failed``; a task a branch or short circuit asked to skip is
skipped without running; a try that ended ``up_for_retry`` (or
``up_for_reschedule``) runs again once it is due.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from tradewind.errors import InvalidInput
from tradewind.execution.memory import InMemoryXComStore, LocalTaskInstance
from tradewind.execution.outcome import TryOutcome
from tradewind.execution.runner import run_task_try
from tradewind.execution.secrets_masker import (
    MaskingConnectionAccessor,
    MaskingVariableAccessor,
    SecretsMasker,
)
from tradewind.execution.task_logging import capture_task_log, task_log_path
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.context import (
    MappingConnectionAccessor,
    MappingVariableAccessor,
    build_template_context,
)
from tradewind.sdk.dag import DAG
from tradewind.sdk.states import DagRunState, DagRunType, TaskInstanceState
from tradewind.sdk.time import as_utc
from tradewind.sdk.trigger_rules import UpstreamStates, Verdict, evaluate

task_log = logging.getLogger("tradewind.task")

_TI = TaskInstanceState
_FAILED_LEAF_STATES = frozenset({_TI.FAILED, _TI.UPSTREAM_FAILED})
_WAITING_STATES = frozenset({_TI.UP_FOR_RETRY, _TI.UP_FOR_RESCHEDULE})
_VERDICT_STATES = {Verdict.SKIP: _TI.SKIPPED, Verdict.UPSTREAM_FAILED: _TI.UPSTREAM_FAILED}


@dataclass(frozen=True)
class TaskReport:
    """What happened to a task instance: one try, or a decision without running it.

    Attributes:
        state: the state after this step (``up_for_retry`` between tries).
        try_number: the try that ran; for a task skipped or ``upstream_failed``
            without running, the number of tries so far (usually 0).
        duration: seconds the try took; 0 when it did not run.
        return_value, error, traceback, next_retry_at: from the try's outcome.
        log_path: the try's log file; None when it did not run or no folder was given.
    """

    task_id: str
    state: TaskInstanceState
    try_number: int
    duration: float = 0.0
    return_value: Any = None
    error: str | None = None
    traceback: str | None = None
    next_retry_at: datetime | None = None
    log_path: Path | None = None


@dataclass(frozen=True)
class InProcessDagRun:
    """The ``dag_run`` of the context in an in-process run (what tasks read of it)."""

    dag_id: str
    run_id: str
    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    conf: dict[str, Any]
    start_date: datetime
    run_type: str = DagRunType.MANUAL.value
    external_trigger: bool = True
    state: str = DagRunState.RUNNING.value

    @property
    def execution_date(self) -> datetime:
        return self.logical_date


@dataclass(frozen=True)
class DagTestResult:
    """The finished run: its state, each task's final state and tries, and the XComs."""

    dag_id: str
    run_id: str
    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    state: DagRunState
    task_states: dict[str, TaskInstanceState | None]
    tries: dict[str, int]
    xcoms: dict[str, dict[str, Any]]
    reports: tuple[TaskReport, ...] = field(default=())
    start_date: datetime | None = None
    end_date: datetime | None = None

    @property
    def succeeded(self) -> bool:
        return self.state == DagRunState.SUCCESS


#: Receives each TaskReport as it happens, e.g. to print it with rich.
ReportCallback = Callable[[TaskReport], None]


class InProcessRun:
    """One in-process DAG run: its tasks' states and tries, and pending skip requests."""

    def __init__(
        self,
        dag: DAG,
        dag_run: InProcessDagRun,
        *,
        xcom_store: InMemoryXComStore,
        masker: SecretsMasker,
        var: Any,
        conn: Any,
        log_folder: Path | None,
        echo: bool,
        console: TextIO | None,
        clock: Callable[[], datetime],
        on_report: ReportCallback | None,
        test_mode: bool,
    ) -> None:
        self.dag = dag
        self.dag_run = dag_run
        self.xcom_store = xcom_store
        self.masker = masker
        self.var = var
        self.conn = conn
        self.log_folder = log_folder
        self.echo = echo
        self.console = console
        self.clock = clock
        self.on_report = on_report
        self.test_mode = test_mode
        self.states: dict[str, TaskInstanceState | None] = dict.fromkeys(dag.task_ids)
        self.tries: dict[str, int] = dict.fromkeys(dag.task_ids, 0)
        self.due: dict[str, datetime] = {}
        self.skip_requests: set[str] = set()
        self.reports: list[TaskReport] = []
        # With a clock that sleeping does not move (a test's no-op sleep), a retry is
        # still due once we have waited until its time.
        self.waited_until: datetime | None = None

    @classmethod
    def start(
        cls,
        dag: DAG,
        *,
        logical_date: datetime,
        conf: Mapping[str, Any] | None,
        run_id: str | None,
        xcom_store: InMemoryXComStore,
        masker: SecretsMasker,
        variables: Any,
        connections: Any,
        log_folder: Path | None,
        echo: bool,
        console: TextIO | None,
        clock: Callable[[], datetime],
        on_report: ReportCallback | None,
        clear_xcom: bool = True,
        test_mode: bool = False,
    ) -> InProcessRun:
        """Validate the conf, create the run's data interval and run id."""
        if conf is not None and not isinstance(conf, Mapping):
            raise InvalidInput(f"conf must be a JSON object, got {type(conf).__name__}.")
        conf = dict(conf or {})
        dag.resolve_params(conf)  # InvalidInput before anything runs
        interval = dag.timetable.infer_manual_data_interval(run_after=logical_date)
        run_id = run_id or DagRunType.MANUAL.generate_run_id(logical_date.isoformat())
        if clear_xcom:
            xcom_store.clear(dag_id=dag.dag_id, run_id=run_id)
        dag_run = InProcessDagRun(
            dag_id=dag.dag_id,
            run_id=run_id,
            logical_date=logical_date,
            data_interval_start=as_utc(interval.start) or logical_date,
            data_interval_end=as_utc(interval.end) or logical_date,
            conf=conf,
            start_date=clock(),
        )
        return cls(
            dag,
            dag_run,
            xcom_store=xcom_store,
            masker=masker,
            var=_variables(variables, masker),
            conn=_connections(connections, masker),
            log_folder=log_folder,
            echo=echo,
            console=console,
            clock=clock,
            on_report=on_report,
            test_mode=test_mode,
        )

    def run_all(self, sleep: Callable[[float], None]) -> DagTestResult:
        """Run until every task is finished; wait with ``sleep`` for pending retries."""
        order = self.dag.topological_sort()
        while True:
            if self._step(order):
                continue
            if not self.due:
                break
            wake = min(self.due.values())
            sleep(max((wake - self.clock()).total_seconds(), 0.0))
            self.waited_until = wake
        unfinished = sorted(t for t, s in self.states.items() if s not in _FINISHED)
        if unfinished:
            task_log.warning("Tasks left unfinished by the in-process run: %s", unfinished)
        return self._result()

    def _step(self, order: list[BaseOperator]) -> bool:
        """Advance the first task (in topological order) that can move; False if none can."""
        now = self._now()
        for task in order:
            task_id = task.task_id
            state = self.states[task_id]
            if state in _WAITING_STATES:
                if self.due[task_id] <= now:
                    self.run_try(task)
                    return True
                continue
            if state is not None:
                continue
            if task_id in self.skip_requests:
                self._decide(task_id, _TI.SKIPPED)
                return True
            upstream = UpstreamStates.count(self.states[u] for u in task.upstream_task_ids)
            verdict = evaluate(task.trigger_rule, upstream)
            if verdict == Verdict.RUN:
                self.run_try(task)
                return True
            if verdict in _VERDICT_STATES:
                self._decide(task_id, _VERDICT_STATES[verdict])
                return True
        return False

    def _now(self) -> datetime:
        now = self.clock()
        return max(now, self.waited_until) if self.waited_until is not None else now

    def _decide(self, task_id: str, state: TaskInstanceState) -> None:
        self.states[task_id] = state
        self._report(TaskReport(task_id=task_id, state=state, try_number=self.tries[task_id]))

    def run_try(self, task: BaseOperator) -> TaskReport:
        """Run the next try of ``task`` and apply its outcome to the run."""
        task_id = task.task_id
        if self.states[task_id] != _TI.UP_FOR_RESCHEDULE:  # a reschedule keeps its try
            self.tries[task_id] += 1
        try_number = max(self.tries[task_id], 1)
        ti = LocalTaskInstance(
            dag_id=self.dag.dag_id,
            task_id=task_id,
            run_id=self.dag_run.run_id,
            xcom_store=self.xcom_store,
            try_number=try_number,
            max_tries=task.retries,
            task=task,
            logical_date=self.dag_run.logical_date,
            state=_TI.RUNNING,
            start_date=self.clock(),
        )
        path = self._log_path(task_id, try_number)
        with capture_task_log(path, masker=self.masker, echo=self.echo, console=self.console):
            outcome = run_task_try(task, context=self._context(task, ti), ti=ti, clock=self.clock)
        if outcome.state == _TI.DEFERRED:
            outcome = _deferral_unsupported(outcome)
        ti.state, ti.end_date = outcome.state, outcome.end_date
        self.states[task_id] = outcome.state
        self.due.pop(task_id, None)
        if outcome.next_retry_at is not None and outcome.state in _WAITING_STATES:
            self.due[task_id] = outcome.next_retry_at
        self.skip_requests.update(outcome.skipped_task_ids)
        return self._report(_report_of(task_id, try_number, outcome, path, self.masker))

    def _context(self, task: BaseOperator, ti: LocalTaskInstance) -> dict[str, Any]:
        run = self.dag_run
        return build_template_context(
            dag=self.dag,
            task=task,
            run_id=run.run_id,
            logical_date=run.logical_date,
            data_interval_start=run.data_interval_start,
            data_interval_end=run.data_interval_end,
            run_type=DagRunType.MANUAL,
            conf=run.conf,
            ti=ti,
            dag_run=run,
            var=self.var,
            conn=self.conn,
            test_mode=self.test_mode,
        )

    def _log_path(self, task_id: str, try_number: int) -> Path | None:
        if self.log_folder is None:
            return None
        return task_log_path(
            self.log_folder,
            dag_id=self.dag.dag_id,
            run_id=self.dag_run.run_id,
            task_id=task_id,
            try_number=try_number,
        )

    def _report(self, report: TaskReport) -> TaskReport:
        self.reports.append(report)
        if self.on_report is not None:
            self.on_report(report)
        return report

    def _result(self) -> DagTestResult:
        leaves = [task.task_id for task in self.dag.leaves]
        failed = any(self.states[t] in _FAILED_LEAF_STATES for t in leaves) or any(
            state not in _FINISHED for state in self.states.values()
        )
        run = self.dag_run
        return DagTestResult(
            dag_id=self.dag.dag_id,
            run_id=run.run_id,
            logical_date=run.logical_date,
            data_interval_start=run.data_interval_start,
            data_interval_end=run.data_interval_end,
            state=DagRunState.FAILED if failed else DagRunState.SUCCESS,
            task_states=dict(self.states),
            tries=dict(self.tries),
            xcoms=self.xcom_store.for_run(self.dag.dag_id, run.run_id),
            reports=tuple(self.reports),
            start_date=run.start_date,
            end_date=self.clock(),
        )


_FINISHED = frozenset({_TI.SUCCESS, _TI.FAILED, _TI.SKIPPED, _TI.UPSTREAM_FAILED, _TI.REMOVED})


def _report_of(
    task_id: str, try_number: int, outcome: TryOutcome, path: Path | None, masker: SecretsMasker
) -> TaskReport:
    return TaskReport(
        task_id=task_id,
        state=outcome.state,
        try_number=try_number,
        duration=outcome.duration,
        return_value=outcome.return_value,
        error=masker.mask(outcome.error) if outcome.error else None,
        traceback=masker.mask(outcome.traceback) if outcome.traceback else None,
        next_retry_at=outcome.next_retry_at,
        log_path=path,
    )


def _deferral_unsupported(outcome: TryOutcome) -> TryOutcome:
    """An in-process run has no triggerer yet: a deferring task fails, saying why."""
    message = "Deferrable tasks cannot run in an in-process run (no triggerer)."
    task_log.error(message)
    return replace(outcome, state=_TI.FAILED, error=f"TaskDeferred: {message}")


def _variables(variables: Any, masker: SecretsMasker) -> Any:
    if variables is None or isinstance(variables, Mapping):
        for key, value in (variables or {}).items():
            masker.add_variable(key, value)
        variables = MappingVariableAccessor(variables)
    return MaskingVariableAccessor(variables, masker)


def _connections(connections: Any, masker: SecretsMasker) -> Any:
    accessor = MaskingConnectionAccessor(
        MappingConnectionAccessor(connections)
        if connections is None or isinstance(connections, Mapping)
        else connections,
        masker,
    )
    if isinstance(connections, Mapping):
        for conn_id in connections:
            accessor.get(conn_id)  # registers its password up front
    return accessor
