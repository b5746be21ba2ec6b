"""The executor seam: the scheduler's queue -> heartbeat -> event-buffer contract.

The shape is Airflow's (``queue_workload``, ``heartbeat``, ``get_event_buffer``),
reduced to what Tradewind needs. Implementations: ``inline.InlineExecutor`` (runs a
try in the calling process, for tests and ``SequentialExecutor``) and
``local.LocalExecutor`` (a warm pool of ``parallelism`` worker processes, each try
forked from a warm parent). Both pass ``tests/contract/test_executors.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class TaskWorkload:
    """One try of one task instance to run.

    Attributes:
        ti_id: the task instance's surrogate id (``task_instance.id``).
        dag_id, run_id, task_id, map_index: the task instance's natural key.
        try_number: the try to run; the worker only starts it if the row still has this
            try number and is ``queued`` (guarded), so a replayed workload never runs twice.
        fileloc: the DAG file to import the task from.
        pool, queue, priority_weight: as the scheduler queued it (for executors that
            route or order work).
        executor_config: the task's ``executor_config``.
    """

    ti_id: int
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    fileloc: str
    pool: str = "default_pool"
    queue: str = "default"
    priority_weight: int = 1
    executor_config: dict[str, object] | None = None

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.dag_id, self.run_id, self.task_id, self.map_index)


@dataclass(frozen=True)
class TaskEvent:
    """What an executor learnt about a workload.

    Attributes:
        workload: the workload the event is about.
        state: ``"running"`` when the worker started it, or the final state the worker
            recorded (``success``, ``failed``, ``skipped``, ``up_for_retry``,
            ``up_for_reschedule``, ``deferred``), or ``"failed"`` with ``lost=True``
            when the worker process died before recording a final state.
        lost: the worker exited without recording a final state (killed, crashed);
            the scheduler then fails or retries the try (guarded on its try number).
        detail: a human-readable reason, e.g. ``"exit code -9"``.
    """

    workload: TaskWorkload
    state: str
    lost: bool = False
    detail: str = ""


class Executor(Protocol):
    """Runs task tries and reports what happened to them.

    All methods are called from the scheduler's thread. ``queue`` must not block on
    the task itself. Events are delivered at most once each.
    """

    def start(self) -> None:
        """Start workers; called once before the first ``queue``."""
        ...

    def queue(self, workload: TaskWorkload) -> None:
        """Accept a workload; it runs when a worker slot is free."""
        ...

    def open_slots(self) -> int:
        """How many more workloads could start now (parallelism minus running and queued)."""
        ...

    def poll_events(self) -> list[TaskEvent]:
        """Events since the last call, oldest first; never blocks."""
        ...

    def wait_fileno(self) -> int | None:
        """A file descriptor readable when events are waiting (for the scheduler's select),
        or None if the executor cannot offer one (the scheduler then polls)."""
        ...

    def end(self, timeout: float = 10.0) -> None:
        """Stop accepting work, wait up to ``timeout`` seconds for running tries, then
        terminate what is left and reap every worker process."""
        ...
