"""What a worker knows of a try once it has claimed it, and how a try is named.

Plain values with no database behind them: the worker claims a try in the database
(:mod:`tradewind.execution.db_task_instance`) and hands a :class:`ClaimedTry` to the
task process, which imports no database library (see
``tradewind.executors.task_process``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class TryIdentity(Protocol):
    """Which try of which task instance (``tradewind.executors.base.TaskWorkload`` is one)."""

    @property
    def ti_id(self) -> int: ...
    @property
    def dag_id(self) -> str: ...
    @property
    def run_id(self) -> str: ...
    @property
    def task_id(self) -> str: ...
    @property
    def map_index(self) -> int: ...
    @property
    def try_number(self) -> int: ...


@dataclass(frozen=True)
class ClaimedTry:
    """What the worker learnt by claiming a try: its start and its DAG run.

    Attributes:
        start_date: the try's ``start_date`` as recorded.
        max_tries: the task instance's ``max_tries``.
        logical_date ... run_state: the DAG run's columns, for the template context.
        has_outlets: whether the task updates datasets (its record registers them).
    """

    start_date: datetime
    max_tries: int
    logical_date: datetime
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    run_type: str
    conf: dict[str, Any]
    run_start_date: datetime | None
    external_trigger: bool
    run_state: str
    has_outlets: bool
