"""The states of DAG runs and task instances, with Airflow's names.

Clients and users recognise these strings, so they are the wire format too. The
legal task-instance transitions live here as data so the scheduler, the task
runner and the API all guard state changes against the same table.
"""

from __future__ import annotations

from enum import StrEnum


class DagRunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"


class DagRunType(StrEnum):
    """How a DAG run came to exist; also the prefix of generated run ids."""

    MANUAL = "manual"
    SCHEDULED = "scheduled"
    BACKFILL = "backfill"
    DATASET_TRIGGERED = "dataset_triggered"

    def generate_run_id(self, logical_date_iso: str) -> str:
        """``manual__2024-01-01T00:00:00+00:00``, the form Airflow users know."""
        return f"{self.value}__{logical_date_iso}"


class TaskInstanceState(StrEnum):
    """Task instance states. ``None`` (not a member) means "not yet considered"."""

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    UPSTREAM_FAILED = "upstream_failed"
    UP_FOR_RETRY = "up_for_retry"
    UP_FOR_RESCHEDULE = "up_for_reschedule"
    DEFERRED = "deferred"
    REMOVED = "removed"
    RESTARTING = "restarting"


#: States after which a try will not run again on its own.
FINISHED_TI_STATES: frozenset[TaskInstanceState] = frozenset(
    {
        TaskInstanceState.SUCCESS,
        TaskInstanceState.FAILED,
        TaskInstanceState.SKIPPED,
        TaskInstanceState.UPSTREAM_FAILED,
        TaskInstanceState.REMOVED,
    }
)

#: States in which a task instance holds (or is about to hold) an executor slot.
ACTIVE_TI_STATES: frozenset[TaskInstanceState] = frozenset(
    {TaskInstanceState.QUEUED, TaskInstanceState.RUNNING}
)

#: Final states of a whole run.
FINISHED_DAG_RUN_STATES: frozenset[DagRunState] = frozenset(
    {DagRunState.SUCCESS, DagRunState.FAILED}
)

_TI = TaskInstanceState
#: Legal task-instance transitions; ``None`` is the "no state" of a fresh or cleared instance.
TI_TRANSITIONS: dict[TaskInstanceState | None, frozenset[TaskInstanceState | None]] = {
    None: frozenset({_TI.SCHEDULED, _TI.SKIPPED, _TI.UPSTREAM_FAILED, _TI.REMOVED, _TI.QUEUED}),
    _TI.SCHEDULED: frozenset({_TI.QUEUED, None, _TI.SKIPPED, _TI.UPSTREAM_FAILED, _TI.REMOVED}),
    _TI.QUEUED: frozenset({_TI.RUNNING, _TI.SCHEDULED, None, _TI.FAILED, _TI.UP_FOR_RETRY}),
    _TI.RUNNING: frozenset(
        {
            _TI.SUCCESS,
            _TI.FAILED,
            _TI.SKIPPED,
            _TI.UP_FOR_RETRY,
            _TI.UP_FOR_RESCHEDULE,
            _TI.DEFERRED,
            _TI.RESTARTING,
        }
    ),
    _TI.DEFERRED: frozenset({_TI.SCHEDULED, _TI.FAILED, _TI.UP_FOR_RETRY, None}),
    _TI.UP_FOR_RETRY: frozenset({_TI.SCHEDULED, _TI.QUEUED, None, _TI.FAILED}),
    _TI.UP_FOR_RESCHEDULE: frozenset({_TI.SCHEDULED, _TI.QUEUED, None, _TI.FAILED}),
    _TI.RESTARTING: frozenset({None, _TI.SCHEDULED, _TI.UP_FOR_RETRY}),
}


def can_transition(old: TaskInstanceState | None, new: TaskInstanceState | None) -> bool:
    """Whether the runtime may move a task instance from ``old`` to ``new`` by itself.

    Users (API, UI, CLI) may set any finished state explicitly; that path does not
    consult this table.
    """
    return new in TI_TRANSITIONS.get(old, frozenset())
