"""``ClearTaskInstances``, ``UpdateTaskInstancesState`` and the references they answer with.

The bodies check what Airflow 2.10's forms check (``ClearTaskInstanceFormSchema``,
``SetTaskInstanceStateFormSchema``), so a request Airflow refuses is a 400 here too.
Defaults are the spec's: a request that names nothing else is a dry run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from tradewind.api.schemas.base import ApiDateTime, RequestBody, ResponseBody
from tradewind.storage.tables import TaskInstanceRow


class TaskInstanceReference(ResponseBody):
    task_id: str
    dag_id: str
    execution_date: datetime
    dag_run_id: str

    @classmethod
    def from_row(cls, row: TaskInstanceRow, logical_date: datetime) -> TaskInstanceReference:
        """``logical_date``: that of the row's run (Airflow's ``execution_date``)."""
        return cls(
            task_id=row.task_id,
            dag_id=row.dag_id,
            execution_date=logical_date,
            dag_run_id=row.run_id,
        )


class TaskInstanceReferenceCollection(ResponseBody):
    task_instances: list[TaskInstanceReference]

    @classmethod
    def from_rows(
        cls, rows: Sequence[TaskInstanceRow], logical_dates: Mapping[str, datetime]
    ) -> TaskInstanceReferenceCollection:
        """``logical_dates``: the logical date of each row's run, by run id."""
        return cls(
            task_instances=[
                TaskInstanceReference.from_row(row, logical_dates[row.run_id]) for row in rows
            ]
        )


class ClearTaskInstances(RequestBody):
    """POST /dags/{dag_id}/clearTaskInstances.

    ``start_date``/``end_date`` bound the runs' logical dates (inclusive), as Airflow's
    ``DAG.clear``. ``include_subdags``/``include_parentdag`` are accepted and have no
    effect: Tradewind has no SubDAGs.
    """

    dry_run: bool = True
    task_ids: list[str] | None = Field(default=None, min_length=1)
    start_date: ApiDateTime | None = None
    end_date: ApiDateTime | None = None
    only_failed: bool = True
    only_running: bool = False
    include_subdags: bool = False
    include_parentdag: bool = False
    reset_dag_runs: bool = False
    dag_run_id: str | None = None
    include_upstream: bool = False
    include_downstream: bool = False
    include_future: bool = False
    include_past: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ClearTaskInstances:
        if self.only_failed and self.only_running:
            raise ValueError("only_failed and only_running both are set to True")
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValueError("end_date is sooner than start_date")
        if self.dag_run_id is not None and (self.start_date or self.end_date):
            raise ValueError(
                "Exactly one of dag_run_id or (start_date and end_date) must be provided"
            )
        return self


class UpdateTaskInstancesState(RequestBody):
    """POST /dags/{dag_id}/updateTaskInstancesState: exactly one of ``execution_date``
    and ``dag_run_id`` names the run."""

    dry_run: bool = True
    task_id: str
    execution_date: ApiDateTime | None = None
    dag_run_id: str | None = None
    include_upstream: bool = False
    include_downstream: bool = False
    include_future: bool = False
    include_past: bool = False
    new_state: Literal["success", "failed", "skipped"]

    @model_validator(mode="after")
    def _one_run(self) -> UpdateTaskInstancesState:
        if (self.execution_date is None) == (self.dag_run_id is None):
            raise ValueError("Exactly one of execution_date or dag_run_id must be provided")
        return self
