"""Per-run decisions: which task instances are ready, skipped, upstream_failed or removed,
and whether the run is finished.

One pass over a running run's task instances in the DAG's topological order, so a
decision made for a task is seen by its downstream tasks in the same pass: a chain
of a thousand ``upstream_failed`` resolves, and the run finishes, in one call. Each
task's direct upstream states are counted once (O(tasks + edges) per run), and the
trigger rule is Airflow 2.10's, evaluated by :func:`tradewind.sdk.trigger_rules.evaluate`
exactly as the in-process runner of ``tradewind dags test`` does.

Rules, for a run whose DAG is in the snapshot and not paused (Airflow examines no run
of a paused DAG: its running task instances finish, nothing new is scheduled):

* state ``None``: the trigger rule over the states of the direct upstream task
  instances (every map index of each) decides: ``RUN`` makes it ``scheduled``,
  unless the task ``depends_on_past`` (or ``wait_for_downstream``, treated alike)
  and the same task in the previous run is neither ``success`` nor ``skipped``;
  ``SKIP`` makes it ``skipped``; ``UPSTREAM_FAILED`` makes it ``upstream_failed``
  (whatever ``depends_on_past`` says, as in Airflow); ``WAIT`` leaves it.
* state ``up_for_retry``: ``scheduled`` once ``end_date`` + the retry delay
  (:func:`tradewind.execution.retry.next_retry_delay`, the worker's own rule) has
  passed; an ``end_date`` of None counts as due.
* state ``scheduled``: already decided; a candidate for queueing.
* a task id the DAG no longer has: ``removed`` when the row is ``None``,
  ``scheduled``, ``up_for_retry`` or ``up_for_reschedule``; finished rows keep their
  state and ``queued``/``running`` ones are left to finish.
* ``up_for_reschedule`` and ``deferred`` are not handled here: the snapshot carries
  no reschedule date, and the triggerer owns deferred task instances.

The run finishes when every task instance is finished (success, failed, skipped,
upstream_failed, removed) after this pass's decisions: ``failed`` if a leaf task
(one with no downstream) is ``failed`` or ``upstream_failed``, else ``success``
(Airflow's rule); a running run with no task instances at all succeeds, since the
loop creates them in the transaction that starts the run.

A run past ``dagrun_timeout`` (``start_date + timeout <= now``) is ``failed`` with
reason "timed out" before anything else is decided; its task instances in ``None``,
``scheduled``, ``up_for_retry`` or ``up_for_reschedule`` become ``skipped``. Its
``queued``, ``running`` and ``deferred`` ones are left to the loop's kill logic and
the worker.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain

from tradewind.execution.retry import next_retry_delay
from tradewind.scheduler.model import (
    DagSnapshot,
    RunSnapshot,
    RunTransition,
    TaskInstanceSnapshot,
    TaskTransition,
)
from tradewind.sdk.states import FINISHED_TI_STATES, DagRunState, TaskInstanceState
from tradewind.sdk.trigger_rules import UpstreamStates, Verdict, evaluate
from tradewind.serialization import SerializedTask

_TI = TaskInstanceState
_FAILED_LEAF_STATES = frozenset({_TI.FAILED, _TI.UPSTREAM_FAILED})
_PAST_OK_STATES = frozenset({_TI.SUCCESS, _TI.SKIPPED})
#: Rows of a task that left the DAG which become ``removed``: nothing is running them.
_REMOVABLE_STATES = frozenset({None, _TI.SCHEDULED, _TI.UP_FOR_RETRY, _TI.UP_FOR_RESCHEDULE})
#: Rows a dagrun timeout skips: the ones no worker or trigger holds.
_TIMEOUT_SKIPPED_STATES = _REMOVABLE_STATES
_VERDICT_STATES = {Verdict.SKIP: _TI.SKIPPED, Verdict.UPSTREAM_FAILED: _TI.UPSTREAM_FAILED}


@dataclass(frozen=True)
class DagPlan:
    """What planning needs of one DAG, computed once per ``plan()`` call."""

    dag: DagSnapshot
    order: tuple[str, ...]
    tasks: Mapping[str, SerializedTask]
    leaves: frozenset[str]
    weights: Mapping[str, int]

    @classmethod
    def of(cls, dag: DagSnapshot) -> DagPlan:
        """Raises CycleError when the stored edges form a cycle."""
        serialized = dag.dag
        return cls(
            dag=dag,
            order=tuple(task.task_id for task in serialized.topological_order()),
            tasks=serialized.task_dict,
            leaves=frozenset(task.task_id for task in serialized.leaves),
            weights=serialized.priority_weights(),
        )


@dataclass(frozen=True)
class Candidate:
    """A task instance that is ``scheduled`` after this pass, waiting for a slot.

    ``stored_state`` is its state in the database: ``scheduled``, or ``None`` /
    ``up_for_retry`` when this pass decided it is ready.
    """

    ti: TaskInstanceSnapshot
    dag_id: str
    logical_date: datetime
    priority: int
    max_active_tis_per_dag: int | None
    stored_state: str | None


@dataclass
class RunOutcome:
    """The decisions about one running run."""

    transitions: list[TaskTransition] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    finish: RunTransition | None = None


def decide_run(
    run: RunSnapshot,
    plan: DagPlan,
    now: datetime,
    previous_ti_states: Mapping[tuple[str, str, str], str | None],
) -> RunOutcome:
    """Decide the task instances of running ``run`` and whether it is finished.

    Args:
        previous_ti_states: :attr:`Snapshot.previous_ti_states`, keyed by this run's
            ``(dag_id, run_id, task_id)``; a missing key means no previous run.
    """
    timeout = plan.dag.dag.dagrun_timeout
    if timeout is not None and run.start_date is not None and run.start_date + timeout <= now:
        return _timed_out(run)
    outcome = RunOutcome()
    by_task: dict[str, list[TaskInstanceSnapshot]] = {}
    for ti in run.task_instances:
        by_task.setdefault(ti.task_id, []).append(ti)
    # Current states, updated as decisions are made so downstream tasks see them.
    states = {task_id: [ti.state for ti in tis] for task_id, tis in by_task.items()}
    for task_id in plan.order:
        tis = by_task.get(task_id)
        if tis is None:
            continue
        task = plan.tasks[task_id]
        verdict: Verdict | None = None
        for index, ti in enumerate(tis):
            new_state: str | None = None
            if ti.state is None:
                if verdict is None:
                    upstream = _upstream_states(task, states)
                    verdict = evaluate(task.trigger_rule, UpstreamStates.count(upstream))
                new_state = _VERDICT_STATES.get(verdict)
                if verdict == Verdict.RUN and _past_allows(task, run, previous_ti_states):
                    new_state = _TI.SCHEDULED
            elif ti.state == _TI.UP_FOR_RETRY and _retry_due(task, ti, run, now):
                new_state = _TI.SCHEDULED
            elif ti.state == _TI.SCHEDULED:
                new_state = _TI.SCHEDULED
            if new_state == _TI.SCHEDULED:
                outcome.candidates.append(_candidate(ti, run, plan, task))
            elif new_state is not None:
                outcome.transitions.append(_transition(ti, new_state))
            if new_state is not None:
                states[task_id][index] = new_state
    for task_id, tis in by_task.items():
        if task_id not in plan.tasks:
            for index, ti in enumerate(tis):
                if ti.state in _REMOVABLE_STATES:
                    outcome.transitions.append(_transition(ti, _TI.REMOVED))
                    states[task_id][index] = _TI.REMOVED
    outcome.finish = _finish(run, plan, states)
    return outcome


def _upstream_states(
    task: SerializedTask, states: Mapping[str, list[str | None]]
) -> Iterator[str | None]:
    return chain.from_iterable(states.get(up, ()) for up in task.upstream_task_ids)


def _past_allows(
    task: SerializedTask,
    run: RunSnapshot,
    previous_ti_states: Mapping[tuple[str, str, str], str | None],
) -> bool:
    if not (task.depends_on_past or task.wait_for_downstream):
        return True
    key = (run.dag_id, run.run_id, task.task_id)
    return key not in previous_ti_states or previous_ti_states[key] in _PAST_OK_STATES


@dataclass(frozen=True)
class _RetryPolicy:
    """The attributes of a task that :func:`next_retry_delay` reads."""

    dag_id: str
    task_id: str
    retry_delay: timedelta
    retry_exponential_backoff: bool
    max_retry_delay: timedelta | None


def _retry_due(
    task: SerializedTask, ti: TaskInstanceSnapshot, run: RunSnapshot, now: datetime
) -> bool:
    if ti.end_date is None:
        return True
    policy = _RetryPolicy(
        dag_id=run.dag_id,
        task_id=task.task_id,
        retry_delay=task.retry_delay,
        retry_exponential_backoff=task.retry_exponential_backoff,
        max_retry_delay=task.max_retry_delay,
    )
    # The worker's own function, so the scheduler's retry time is identical to the worker's.
    delay = next_retry_delay(policy, ti.try_number, logical_date=run.logical_date)
    return ti.end_date + delay <= now


def _candidate(
    ti: TaskInstanceSnapshot, run: RunSnapshot, plan: DagPlan, task: SerializedTask
) -> Candidate:
    return Candidate(
        ti=ti,
        dag_id=run.dag_id,
        logical_date=run.logical_date,
        priority=plan.weights[task.task_id],
        max_active_tis_per_dag=task.max_active_tis_per_dag,
        stored_state=ti.state,
    )


def _transition(ti: TaskInstanceSnapshot, state: str | None, reason: str = "") -> TaskTransition:
    return TaskTransition(
        ti_id=ti.id,
        expected_state=ti.state,
        expected_try_number=ti.try_number,
        state=state,
        try_number=ti.try_number,
        reason=reason,
    )


def _finish(
    run: RunSnapshot, plan: DagPlan, states: Mapping[str, list[str | None]]
) -> RunTransition | None:
    for task_states in states.values():
        for state in task_states:
            if state not in FINISHED_TI_STATES:
                return None
    for leaf in plan.leaves:
        for state in states.get(leaf, ()):
            if state in _FAILED_LEAF_STATES:
                return RunTransition(
                    run.id, DagRunState.RUNNING, DagRunState.FAILED, "task failure"
                )
    return RunTransition(run.id, DagRunState.RUNNING, DagRunState.SUCCESS, "success")


def _timed_out(run: RunSnapshot) -> RunOutcome:
    return RunOutcome(
        transitions=[
            _transition(ti, _TI.SKIPPED, "dagrun timed out")
            for ti in run.task_instances
            if ti.state in _TIMEOUT_SKIPPED_STATES
        ],
        finish=RunTransition(run.id, DagRunState.RUNNING, DagRunState.FAILED, "timed out"),
    )
