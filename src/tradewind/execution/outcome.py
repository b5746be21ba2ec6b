"""TryOutcome: how one task try ended, as decided by the runner.

The runner never records anything itself: a worker writes the outcome to the
metadata database with guarded UPDATEs, ``tradewind dags test`` keeps it in
memory. Keeping the decision a plain frozen value is what lets both share one
runner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tradewind.sdk.states import FINISHED_TI_STATES, TaskInstanceState


@dataclass(frozen=True)
class TryOutcome:
    """The result of one try of one task instance.

    Attributes:
        state: the state the task instance moves to (success, failed, skipped,
            up_for_retry, up_for_reschedule or deferred).
        return_value: what ``execute`` returned (None when it raised).
        error: ``"ExceptionType: message"`` of the exception that ended the try, else None.
        traceback: the formatted traceback of that exception, else None.
        duration: seconds between ``start_date`` and ``end_date``.
        start_date, end_date: UTC instants the try started and ended (from the runner's clock).
        skipped_task_ids: task ids the try asked to skip (branching, short circuit);
            the caller marks those that have not started yet ``skipped``.
        next_retry_at: for ``up_for_retry``, when the next try may start; for
            ``up_for_reschedule``, when the sensor runs again; else None.
        rendered_fields: the task's template fields after rendering, for the
            "Rendered Template" view; empty when rendering failed.
        deferral: for ``deferred``, the ``TaskDeferred`` raised (trigger, method, timeout).
        held_xcoms: ``(key, value)`` XComs of the return value that a worker's task
            process held instead of writing them; the worker writes them with the
            outcome (:class:`~tradewind.execution.db_xcom.DatabaseXComStore`).
    """

    state: TaskInstanceState
    return_value: Any
    error: str | None
    traceback: str | None
    duration: float
    start_date: datetime
    end_date: datetime
    skipped_task_ids: frozenset[str] = frozenset()
    next_retry_at: datetime | None = None
    rendered_fields: Mapping[str, Any] = field(default_factory=dict)
    deferral: Any = None
    held_xcoms: tuple[tuple[str, Any], ...] = ()

    @property
    def finished(self) -> bool:
        """Whether the task instance is done (no retry, reschedule or deferral pending)."""
        return self.state in FINISHED_TI_STATES
