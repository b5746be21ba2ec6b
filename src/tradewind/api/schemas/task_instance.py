"""``TaskInstance`` and its collections, its tries (``TaskInstanceHistory``), unmet
dependencies, extra links, and the bodies that list, patch and annotate task instances.

Fields the spec declares as non-nullable strings are never null on the wire, since
the official client refuses a null there: a task instance that has not run yet has
``hostname`` and ``unixname`` ``""``, and ``task_display_name`` falls back to the task
id, as in Airflow. ``executor_config`` is the ``str()`` of the mapping, as Airflow
dumps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, RootModel

from tradewind.api.schemas.base import ApiDateTime, RequestBody, ResponseBody
from tradewind.services.task_instance_dependencies import FailedDependency
from tradewind.storage.pagination import Page
from tradewind.storage.repositories.task_instance_details import TaskInstanceDetails
from tradewind.storage.tables import JobRow, TaskInstanceHistoryRow, TaskInstanceRow, TriggerRow

#: The spec's ``TaskState``: null (and the deprecated ``none``) is "not yet scheduled".
TaskState = Literal[
    "success",
    "running",
    "failed",
    "upstream_failed",
    "skipped",
    "up_for_retry",
    "up_for_reschedule",
    "queued",
    "none",
    "scheduled",
    "deferred",
    "removed",
    "restarting",
]


class Trigger(ResponseBody):
    """A deferred task instance's trigger. ``kwargs`` shows the argument names only:
    their values may be credentials, which is why they are encrypted at rest."""

    id: int
    classpath: str
    kwargs: str
    created_date: datetime
    triggerer_id: int | None

    @classmethod
    def from_row(cls, row: TriggerRow) -> Trigger:
        names = sorted(row.kwargs) if isinstance(row.kwargs, dict) else []
        return cls(
            id=row.id,
            classpath=row.classpath,
            kwargs=str(dict.fromkeys(names, "***")),
            created_date=row.created_date,
            triggerer_id=row.triggerer_id,
        )


class Job(ResponseBody):
    id: int
    dag_id: str | None
    state: str | None
    job_type: str | None
    start_date: datetime | None
    end_date: datetime | None
    latest_heartbeat: datetime | None
    executor_class: str | None
    hostname: str | None
    unixname: str | None

    @classmethod
    def from_row(cls, row: JobRow) -> Job:
        return cls(
            id=row.id,
            dag_id=row.dag_id,
            state=row.state,
            job_type=row.job_type,
            start_date=row.start_date,
            end_date=row.end_date,
            latest_heartbeat=row.latest_heartbeat,
            executor_class=row.executor_class,
            hostname=row.hostname,
            unixname=row.unixname,
        )


class TaskInstanceHistory(ResponseBody):
    """One try of a task instance: an archived one, or the current row."""

    task_id: str
    task_display_name: str
    dag_id: str
    dag_run_id: str
    start_date: datetime | None
    end_date: datetime | None
    duration: float | None
    state: str | None
    try_number: int
    map_index: int
    max_tries: int
    hostname: str
    unixname: str
    pool: str
    pool_slots: int
    queue: str | None
    priority_weight: int | None
    operator: str | None
    queued_when: datetime | None
    pid: int | None
    executor: str | None
    executor_config: str

    @classmethod
    def from_row(cls, row: TaskInstanceRow | TaskInstanceHistoryRow) -> TaskInstanceHistory:
        return cls(**_try_fields(row))


class TaskInstance(TaskInstanceHistory):
    execution_date: datetime
    sla_miss: None = None
    rendered_map_index: str | None
    rendered_fields: dict[str, Any]
    trigger: Trigger | None
    triggerer_job: Job | None
    note: str | None

    @classmethod
    def from_details(cls, row: TaskInstanceRow, details: TaskInstanceDetails) -> TaskInstance:
        trigger = details.trigger(row)
        job = details.triggerer_job(row)
        return cls(
            **_try_fields(row),
            execution_date=details.logical_date(row),
            rendered_map_index=row.rendered_map_index,
            rendered_fields=row.rendered_fields or {},
            trigger=None if trigger is None else Trigger.from_row(trigger),
            triggerer_job=None if job is None else Job.from_row(job),
            note=row.note,
        )


def _try_fields(row: TaskInstanceRow | TaskInstanceHistoryRow) -> dict[str, Any]:
    return {
        "task_id": row.task_id,
        "task_display_name": row.task_display_name or row.task_id,
        "dag_id": row.dag_id,
        "dag_run_id": row.run_id,
        "start_date": row.start_date,
        "end_date": row.end_date,
        "duration": row.duration,
        "state": row.state,
        "try_number": row.try_number,
        "map_index": row.map_index,
        "max_tries": row.max_tries,
        "hostname": row.hostname or "",
        "unixname": row.unixname or "",
        "pool": row.pool,
        "pool_slots": row.pool_slots,
        "queue": row.queue,
        "priority_weight": row.priority_weight,
        "operator": row.operator,
        "queued_when": row.queued_dttm,
        "pid": row.pid,
        "executor": row.executor,
        "executor_config": str(row.executor_config or {}),
    }


class TaskInstanceCollection(ResponseBody):
    task_instances: list[TaskInstance]
    total_entries: int

    @classmethod
    def from_page(
        cls, page: Page[TaskInstanceRow], details: TaskInstanceDetails
    ) -> TaskInstanceCollection:
        return cls(
            task_instances=[TaskInstance.from_details(row, details) for row in page.items],
            total_entries=page.total_entries,
        )


class TaskInstanceHistoryCollection(ResponseBody):
    """The tries of one task instance.

    The spec names the list ``task_instances_history``, while Airflow 2.10 sends it as
    ``task_instances`` (which ``apache-airflow-client`` 2.10.0 reads, as a
    ``TaskInstanceCollection``); both keys are sent so that clients of either work.
    """

    task_instances_history: list[TaskInstanceHistory]
    task_instances: list[TaskInstanceHistory]
    total_entries: int

    @classmethod
    def from_rows(
        cls, rows: Sequence[TaskInstanceRow | TaskInstanceHistoryRow], total_entries: int
    ) -> TaskInstanceHistoryCollection:
        tries = [TaskInstanceHistory.from_row(row) for row in rows]
        return cls(task_instances_history=tries, task_instances=tries, total_entries=total_entries)


class TaskFailedDependency(ResponseBody):
    name: str
    reason: str


class TaskInstanceDependencyCollection(ResponseBody):
    dependencies: list[TaskFailedDependency]

    @classmethod
    def from_failed(cls, failed: Sequence[FailedDependency]) -> TaskInstanceDependencyCollection:
        return cls(
            dependencies=[TaskFailedDependency(name=dep.name, reason=dep.reason) for dep in failed]
        )


class ExtraLinkCollection(RootModel[dict[str, str | None]]):
    """Link name -> URL (None while the link cannot be built yet).

    Airflow 2.10 sends this mapping as the whole body (not under ``extra_links`` as the
    spec draws it); an operator without links gives ``{}``, which fits both.
    """


class UpdateTaskInstance(RequestBody):
    dry_run: bool = True
    new_state: Literal["success", "failed", "skipped"]


class SetTaskInstanceNote(RequestBody):
    note: str | None = Field(max_length=1000)


class ListTaskInstanceForm(RequestBody):
    """POST ``/dags/~/dagRuns/~/taskInstances/list``: filters in a body, for long lists."""

    page_offset: int = Field(default=0, ge=0)
    page_limit: int = Field(default=100, ge=1)
    order_by: str | None = None
    dag_ids: list[str] | None = None
    dag_run_ids: list[str] | None = None
    task_ids: list[str] | None = None
    execution_date_gte: ApiDateTime | None = None
    execution_date_lte: ApiDateTime | None = None
    start_date_gte: ApiDateTime | None = None
    start_date_lte: ApiDateTime | None = None
    end_date_gte: ApiDateTime | None = None
    end_date_lte: ApiDateTime | None = None
    duration_gte: float | None = None
    duration_lte: float | None = None
    state: list[TaskState | None] | None = None
    pool: list[str] | None = None
    queue: list[str] | None = None
    executor: list[str] | None = None
