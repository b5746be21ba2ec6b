"""``Task`` and ``TaskCollection``: a DAG's tasks as its serialized form describes them.

``sub_dag`` is left out: Tradewind has no SubDAGs, and the spec's ``DAG`` is not
nullable, so the official client refuses the ``null`` Airflow would send. ``extra_links``
is always empty (no operator defines extra links yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tradewind.api.schemas.base import ResponseBody
from tradewind.errors import InvalidInput
from tradewind.serialization import SerializedTask
from tradewind.serialization.encoders import encode_timedelta

#: Task fields ``order_by`` may name (their values sort; lists and objects do not).
ORDERABLE = (
    "task_id",
    "task_display_name",
    "owner",
    "start_date",
    "end_date",
    "trigger_rule",
    "depends_on_past",
    "is_mapped",
    "wait_for_downstream",
    "retries",
    "queue",
    "executor",
    "pool",
    "pool_slots",
    "execution_timeout",
    "retry_delay",
    "retry_exponential_backoff",
    "priority_weight",
    "weight_rule",
    "ui_color",
    "ui_fgcolor",
    "doc_md",
)


class ClassReference(ResponseBody):
    module_path: str
    class_name: str


class Task(ResponseBody):
    class_ref: ClassReference
    task_id: str
    task_display_name: str
    owner: str
    start_date: datetime | None
    end_date: datetime | None
    trigger_rule: str
    extra_links: list[dict[str, Any]]
    depends_on_past: bool
    is_mapped: bool
    wait_for_downstream: bool
    retries: int
    queue: str | None
    executor: str | None
    pool: str
    pool_slots: int
    execution_timeout: dict[str, Any] | None
    retry_delay: dict[str, Any]
    retry_exponential_backoff: bool
    priority_weight: int
    weight_rule: str
    ui_color: str
    ui_fgcolor: str
    template_fields: list[str]
    downstream_task_ids: list[str]
    doc_md: str | None

    @classmethod
    def from_task(cls, task: SerializedTask) -> Task:
        timeout = task.execution_timeout
        return cls(
            class_ref=ClassReference(module_path=task.task_module, class_name=task.task_type),
            task_id=task.task_id,
            task_display_name=task.display_name,
            owner=task.owner,
            start_date=task.start_date,
            end_date=task.end_date,
            trigger_rule=str(task.trigger_rule),
            extra_links=[],
            depends_on_past=task.depends_on_past,
            is_mapped=task.is_mapped,
            wait_for_downstream=task.wait_for_downstream,
            retries=task.retries,
            queue=task.queue,
            executor=task.executor,
            pool=task.pool,
            pool_slots=task.pool_slots,
            execution_timeout=encode_timedelta(timeout) if timeout is not None else None,
            retry_delay=encode_timedelta(task.retry_delay),
            retry_exponential_backoff=task.retry_exponential_backoff,
            priority_weight=task.priority_weight,
            weight_rule=str(task.weight_rule),
            ui_color=task.ui_color,
            ui_fgcolor=task.ui_fgcolor,
            template_fields=list(task.template_fields),
            downstream_task_ids=sorted(task.downstream_task_ids),
            doc_md=task.doc_md,
        )


class TaskCollection(ResponseBody):
    tasks: list[Task]
    #: Not in the spec's ``TaskCollection``, but Airflow 2.10 sends it.
    total_entries: int

    @classmethod
    def from_tasks(cls, tasks: Sequence[SerializedTask], order_by: str | None) -> TaskCollection:
        """The tasks sorted by ``order_by`` (a Task field, ``-`` first to reverse; task_id
        when None); tasks without a value (``None``) come first.

        Raises:
            InvalidInput: ``order_by`` names no sortable field.
        """
        wanted = order_by or "task_id"
        name = wanted.removeprefix("-")
        if name not in ORDERABLE:
            raise InvalidInput(
                f"Ordering with '{name}' is disallowed or the attribute does not exist on the model"
            )
        attribute = "display_name" if name == "task_display_name" else name

        def key(task: SerializedTask) -> tuple[bool, Any, str]:
            value = getattr(task, attribute)
            return (value is not None, 0 if value is None else value, task.task_id)

        ordered = sorted(tasks, key=key, reverse=wanted.startswith("-"))
        return cls(tasks=[Task.from_task(task) for task in ordered], total_entries=len(ordered))
