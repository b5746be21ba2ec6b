"""The filters of task-instance lists, from a query string or from a batch body.

Both forms end as :class:`TaskInstanceFilters`, whose :meth:`~TaskInstanceFilters.query`
gives the keyword arguments of ``repositories.task_instances.list_task_instances``.

Date-times in a query string are parsed as Airflow parses them: ISO 8601, a naive one
taken as UTC, and a space read back as ``+`` (a client that did not URL-encode
``+00:00`` sends a space). ``state`` takes the spec's ``TaskState`` names, ``none``
meaning the null state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query

from tradewind.api.query_dates import RunDates, run_dates_from_query
from tradewind.api.schemas.task_instance import ListTaskInstanceForm
from tradewind.errors import InvalidInput
from tradewind.sdk.states import TaskInstanceState

_STATE_NAMES = {state.value for state in TaskInstanceState}


@dataclass(frozen=True)
class TaskInstanceFilters:
    logical_date_gte: datetime | None = None
    logical_date_lte: datetime | None = None
    start_date_gte: datetime | None = None
    start_date_lte: datetime | None = None
    end_date_gte: datetime | None = None
    end_date_lte: datetime | None = None
    updated_at_gte: datetime | None = None
    updated_at_lte: datetime | None = None
    duration_gte: float | None = None
    duration_lte: float | None = None
    states: list[str | None] | None = None
    pools: list[str] | None = None
    queues: list[str] | None = None
    executors: list[str] | None = None

    def query(self) -> dict[str, Any]:
        """Keyword arguments of ``list_task_instances``."""
        return asdict(self)

    @classmethod
    def from_form(cls, form: ListTaskInstanceForm) -> TaskInstanceFilters:
        return cls(
            logical_date_gte=form.execution_date_gte,
            logical_date_lte=form.execution_date_lte,
            start_date_gte=form.start_date_gte,
            start_date_lte=form.start_date_lte,
            end_date_gte=form.end_date_gte,
            end_date_lte=form.end_date_lte,
            duration_gte=form.duration_gte,
            duration_lte=form.duration_lte,
            states=parse_states(form.state),
            pools=form.pool,
            queues=form.queue,
            executors=form.executor,
        )


async def task_instance_filters(
    dates: Annotated[RunDates, Depends(run_dates_from_query)],
    duration_gte: float | None = None,
    duration_lte: float | None = None,
    state: Annotated[list[str] | None, Query()] = None,
    pool: Annotated[list[str] | None, Query()] = None,
    queue: Annotated[list[str] | None, Query()] = None,
    executor: Annotated[list[str] | None, Query()] = None,
) -> TaskInstanceFilters:
    """The list filters of a query string (a FastAPI dependency)."""
    return TaskInstanceFilters(
        **dates,
        duration_gte=duration_gte,
        duration_lte=duration_lte,
        states=parse_states(state),
        pools=pool,
        queues=queue,
        executors=executor,
    )


def parse_states(values: Sequence[str | None] | None) -> list[str | None] | None:
    """State names as stored: ``none`` (or null) is None.

    Raises:
        InvalidInput: an unknown state name.
    """
    if not values:
        return None
    states: list[str | None] = []
    for value in values:
        if value in (None, "none"):
            states.append(None)
        elif value in _STATE_NAMES:
            states.append(value)
        else:
            raise InvalidInput(f"state: {value!r} is not a valid task instance state")
    return states
