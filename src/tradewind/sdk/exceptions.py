"""Task control flow: exceptions a task raises to say how its try ends.

They are caught in exactly one place, the task runner (``tradewind.execution``).
Airflow's names are kept as aliases, so ``from airflow.exceptions import
AirflowSkipException`` ported to ``from tradewind.exceptions import
AirflowSkipException`` keeps working.

    TaskControlFlow
     ├── TaskSkipped           end this try as ``skipped``
     ├── TaskFailed            end as ``failed`` with no retry (AirflowFailException)
     ├── TaskTimeout           execution_timeout elapsed (retries apply)
     ├── SensorTimeout         a sensor gave up (no retry)
     ├── RescheduleTask        free the slot, run again at ``reschedule_date``
     └── TaskDeferred          hand the wait to a trigger, resume in ``method_name``
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


class TaskControlFlow(Exception):
    """Base of the exceptions that end a task try in a chosen state."""


class TaskSkipped(TaskControlFlow):
    """Raise inside ``execute`` to mark the task instance skipped."""


class TaskFailed(TaskControlFlow):
    """Raise to fail the task instance at once, without using remaining retries."""


class TaskTimeout(TaskControlFlow):
    """The try ran longer than its ``execution_timeout``; retries still apply."""


class SensorTimeout(TaskFailed):
    """A sensor waited longer than its ``timeout``; fails without retry."""


class RescheduleTask(TaskControlFlow):
    """Free the worker slot and run the task again at ``reschedule_date`` (UTC)."""

    def __init__(self, reschedule_date: datetime) -> None:
        super().__init__(f"Reschedule at {reschedule_date.isoformat()}")
        self.reschedule_date = reschedule_date


class TaskDeferred(TaskControlFlow):
    """Suspend the task until ``trigger`` fires, then resume in ``method_name``.

    Args:
        trigger: the trigger object the triggerer will run.
        method_name: the operator method called with the trigger's event.
        kwargs: extra keyword arguments for that method.
        timeout: how long the trigger may wait before the task fails; None waits forever.
    """

    def __init__(
        self,
        *,
        trigger: Any,
        method_name: str,
        kwargs: dict[str, Any] | None = None,
        timeout: timedelta | None = None,
    ) -> None:
        super().__init__(f"Deferred to {type(trigger).__name__}.{method_name}")
        self.trigger = trigger
        self.method_name = method_name
        self.kwargs = kwargs or {}
        self.timeout = timeout


class AirflowException(Exception):  # noqa: N818 - Airflow's name, kept for ported DAGs
    """A generic task error; raising it fails the try (retries apply)."""


# Airflow's names, so ported DAG files need only their import line changed.
AirflowSkipException = TaskSkipped
AirflowFailException = TaskFailed
AirflowTaskTimeout = TaskTimeout
AirflowSensorTimeout = SensorTimeout
AirflowRescheduleException = RescheduleTask
