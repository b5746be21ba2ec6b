"""What the scheduler's planner sees and what it decides: plain frozen data.

``loop.py`` reads a :class:`Snapshot` from the database, hands it to the pure
``planner.plan(snapshot) -> Decisions``, and applies the decisions with guarded
``UPDATE ... WHERE state = :expected`` statements in one transaction. A decision
whose guard no longer holds (another scheduler, a user, a worker got there first)
updates nothing and is simply dropped, which is what makes several schedulers and
replays safe.

This module imports no SQLAlchemy: the planner and its tests work on plain data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tradewind.serialization import SerializedDAG


@dataclass(frozen=True)
class DagSnapshot:
    """A DAG the scheduler may act on, with its limits resolved against the config.

    Attributes:
        dag: the serialized DAG (tasks, trigger rules, weights, timetable).
        is_paused: paused DAGs get no scheduled runs and start no queued runs.
        max_active_runs: running runs allowed at once (config default applied).
        max_active_tasks: queued + running task instances allowed at once.
        catchup: the DAG's catchup, or ``[scheduler] catchup_by_default``.
        next_dagrun: logical date of the next scheduled run; None when there is none.
        next_dagrun_data_interval: its data interval (start, end), or None.
        next_dagrun_create_after: the run may be created at or after this instant;
            None means no scheduled run is due.
        active_runs: runs of this DAG in state ``running``.
    """

    dag_id: str
    dag: SerializedDAG
    is_paused: bool
    max_active_runs: int
    max_active_tasks: int
    catchup: bool
    next_dagrun: datetime | None = None
    next_dagrun_data_interval: tuple[datetime, datetime] | None = None
    next_dagrun_create_after: datetime | None = None
    active_runs: int = 0


@dataclass(frozen=True)
class TaskInstanceSnapshot:
    """One task instance row as the planner needs it.

    ``state`` None is Airflow's ``none``: not yet considered (new or cleared).
    """

    id: int
    task_id: str
    map_index: int
    state: str | None
    try_number: int
    max_tries: int
    pool: str
    pool_slots: int
    priority_weight: int
    queue: str = "default"
    start_date: datetime | None = None
    end_date: datetime | None = None


@dataclass(frozen=True)
class RunSnapshot:
    """A DAG run in state ``queued`` or ``running`` with its task instances.

    Attributes:
        id: ``dag_run.id``.
        task_instances: every task instance of the run; empty for a queued run whose
            task instances are created when it starts.
    """

    id: int
    dag_id: str
    run_id: str
    run_type: str
    state: str
    logical_date: datetime
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    queued_at: datetime | None
    start_date: datetime | None
    task_instances: tuple[TaskInstanceSnapshot, ...] = ()


@dataclass(frozen=True)
class PoolSnapshot:
    """A pool's size and the slots its queued and running task instances hold."""

    name: str
    slots: int
    occupied: int


@dataclass(frozen=True)
class Snapshot:
    """Everything one scheduling decision depends on, read in one transaction.

    Attributes:
        now: the instant of the decision (UTC); the planner never reads the clock.
        parallelism: ``[core] parallelism``: queued + running task instances allowed.
        executor_open_slots: how many more workloads the executor accepts now.
        active_tis: queued + running task instances across all DAGs.
        active_tis_by_dag: the same per dag_id.
        active_tis_by_task: the same per (dag_id, task_id), for max_active_tis_per_dag.
        previous_ti_states: for ``depends_on_past``: the state of the same task in the
            previous run (by logical date) of the same DAG, keyed by
            (dag_id, run_id, task_id); a missing key means there is no previous run.
    """

    now: datetime
    parallelism: int
    executor_open_slots: int
    dags: Mapping[str, DagSnapshot]
    runs: tuple[RunSnapshot, ...]
    pools: Mapping[str, PoolSnapshot]
    active_tis: int = 0
    active_tis_by_dag: Mapping[str, int] = field(default_factory=dict)
    active_tis_by_task: Mapping[tuple[str, str], int] = field(default_factory=dict)
    previous_ti_states: Mapping[tuple[str, str, str], str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class NewRun:
    """A scheduled run to create (state ``queued``), and the DAG's next-run fields after it."""

    dag_id: str
    run_id: str
    run_type: str
    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    next_dagrun: datetime | None
    next_dagrun_data_interval: tuple[datetime, datetime] | None
    next_dagrun_create_after: datetime | None


@dataclass(frozen=True)
class RunTransition:
    """Move run ``run_id`` (``dag_run.id``) from ``expected`` to ``state``."""

    run_id: int
    expected: str
    state: str
    reason: str = ""


@dataclass(frozen=True)
class TaskTransition:
    """Move task instance ``ti_id`` from ``expected`` (state, try) to ``state``.

    ``queue`` transitions also carry the new ``try_number`` the worker will run.
    """

    ti_id: int
    expected_state: str | None
    expected_try_number: int
    state: str | None
    try_number: int
    reason: str = ""


@dataclass(frozen=True)
class Decisions:
    """The outcome of one planning pass, applied in this order by the loop.

    Attributes:
        runs_to_create: scheduled runs to insert (queued).
        runs_to_start: queued runs to move to running (their task instances are
            created by the loop as it starts them).
        task_transitions: task instances to mark scheduled, skipped, upstream_failed,
            failed (zombies, timeouts) or removed.
        tis_to_queue: task instances to mark queued, highest priority first; the loop
            sends each one whose guard held to the executor.
        runs_to_finish: runs to mark success or failed (all leaves done, or timed out).
        problems: why the planner could not act on something (a DAG whose timetable
            cannot be loaded or raised, a run of an unknown DAG), for the loop to log.
            They change nothing in the database and do not make the decisions non-empty.
    """

    runs_to_create: tuple[NewRun, ...] = ()
    runs_to_start: tuple[RunTransition, ...] = ()
    task_transitions: tuple[TaskTransition, ...] = ()
    tis_to_queue: tuple[TaskTransition, ...] = ()
    runs_to_finish: tuple[RunTransition, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.runs_to_create
            or self.runs_to_start
            or self.task_transitions
            or self.tis_to_queue
            or self.runs_to_finish
        )
