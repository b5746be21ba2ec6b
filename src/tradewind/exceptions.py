"""Task control-flow exceptions, under the import path DAG authors expect.

``from airflow.exceptions import AirflowSkipException`` ports to
``from tradewind.exceptions import AirflowSkipException``. The classes live in
``tradewind.sdk.exceptions`` (their docstring draws the tree); this module only
re-exports them. Tradewind's own errors (not found, invalid input ...) are in
``tradewind.errors``.
"""

from __future__ import annotations

from tradewind.sdk.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
    RescheduleTask,
    SensorTimeout,
    TaskControlFlow,
    TaskDeferred,
    TaskFailed,
    TaskSkipped,
    TaskTimeout,
)

__all__ = [
    "AirflowException",
    "AirflowFailException",
    "AirflowRescheduleException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "AirflowTaskTimeout",
    "RescheduleTask",
    "SensorTimeout",
    "TaskControlFlow",
    "TaskDeferred",
    "TaskFailed",
    "TaskSkipped",
    "TaskTimeout",
]
