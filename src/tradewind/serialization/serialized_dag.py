"""The read-only DAG the scheduler, API and UI work with: data, never code.

``SerializedDAG`` and ``SerializedTask`` hold everything those processes need to know
about a DAG (ids, schedule, limits, retry policy, graph, docs) and nothing that can
run: callbacks survive only as ``has_on_*_callback`` flags and operators only as a
class name and module path. The graph helpers mirror the SDK DAG's, computed once per
object from the stored edges (see :mod:`tradewind.serialization.graph`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from types import MappingProxyType
from typing import Any

from tradewind.errors import NotFound
from tradewind.sdk.params import NOTSET, Param, ParamsDict, resolve_params
from tradewind.sdk.timetables import Timetable, decode_timetable
from tradewind.sdk.trigger_rules import TriggerRule
from tradewind.sdk.weight_rule import WeightRule
from tradewind.serialization import graph


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


def frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only view of a copy of ``value``; equal to any mapping with equal items."""
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True)
class SerializedParam:
    """One DAG or task param: its default (if any), description and JSON schema."""

    value: Any = None
    has_default: bool = True
    description: str | None = None
    schema: Mapping[str, Any] = field(default_factory=_empty)

    def to_param(self) -> Param:
        """The SDK ``Param``, so validation is the exact code the DAG file ran."""
        return Param(self.value if self.has_default else NOTSET, self.description, **self.schema)


@dataclass(frozen=True)
class SerializedTaskGroup:
    """A task group as the graph view draws it. The root group has ``group_id`` None.

    ``children`` lists ``("task" | "group", id)`` pairs in definition order.
    """

    group_id: str | None
    label: str | None = None
    tooltip: str = ""
    ui_color: str = "CornflowerBlue"
    ui_fgcolor: str = "#000"
    prefix_group_id: bool = True
    parent_group_id: str | None = None
    children: tuple[tuple[str, str], ...] = ()

    @property
    def is_root(self) -> bool:
        return self.group_id is None

    @property
    def child_task_ids(self) -> list[str]:
        return [child_id for kind, child_id in self.children if kind == "task"]

    @property
    def child_group_ids(self) -> list[str]:
        return [child_id for kind, child_id in self.children if kind == "group"]


@dataclass(frozen=True)
class SerializedTask:
    """One task. Times are UTC; ``None`` limits mean "no task-level limit".

    ``template_values`` holds each template field's un-rendered value in the tagged
    JSON of :mod:`tradewind.serialization.encoders`, for the UI's template view.
    """

    task_id: str
    task_type: str
    task_module: str
    label: str = ""
    task_display_name: str | None = None
    custom_operator_name: str | None = None
    owner: str = "airflow"
    email: str | tuple[str, ...] | None = None
    email_on_failure: bool = True
    email_on_retry: bool = True
    retries: int = 0
    retry_delay: timedelta = timedelta(seconds=300)
    retry_exponential_backoff: bool = False
    max_retry_delay: timedelta | None = None
    execution_timeout: timedelta | None = None
    trigger_rule: TriggerRule = TriggerRule.ALL_SUCCESS
    depends_on_past: bool = False
    wait_for_downstream: bool = False
    priority_weight: int = 1
    weight_rule: WeightRule = WeightRule.DOWNSTREAM
    queue: str = "default"
    pool: str = "default_pool"
    pool_slots: int = 1
    executor_config: Mapping[str, Any] = field(default_factory=_empty)
    executor: str | None = None
    do_xcom_push: bool = True
    multiple_outputs: bool = False
    start_date: datetime | None = None
    end_date: datetime | None = None
    max_active_tis_per_dag: int | None = None
    max_active_tis_per_dagrun: int | None = None
    template_fields: tuple[str, ...] = ()
    template_ext: tuple[str, ...] = ()
    template_fields_renderers: Mapping[str, str] = field(default_factory=_empty)
    template_values: Mapping[str, Any] = field(default_factory=_empty)
    ui_color: str = "#fff"
    ui_fgcolor: str = "#000"
    doc_md: str | None = None
    doc: str | None = None
    upstream_task_ids: tuple[str, ...] = ()
    downstream_task_ids: tuple[str, ...] = ()
    task_group_id: str | None = None
    params: Mapping[str, SerializedParam] = field(default_factory=_empty)
    inlets: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()
    has_on_execute_callback: bool = False
    has_on_success_callback: bool = False
    has_on_failure_callback: bool = False
    has_on_retry_callback: bool = False
    has_on_skipped_callback: bool = False
    inherits_from_empty_operator: bool = False
    is_mapped: bool = False

    @property
    def operator_name(self) -> str:
        """The name the UI shows: ``custom_operator_name`` or the class name."""
        return self.custom_operator_name or self.task_type

    @property
    def class_ref(self) -> dict[str, str]:
        """The API's ``ClassReference``."""
        return {"class_name": self.task_type, "module_path": self.task_module}

    @property
    def display_name(self) -> str:
        return self.task_display_name or self.task_id


@dataclass(frozen=True)
class SerializedDAG:
    """A DAG as stored: see :func:`tradewind.serialization.deserialize_dag`.

    ``timetable`` is decoded from ``timetable_data`` on first use, not when the
    document is read: a custom timetable's class lives in user code, which the API
    server and UI never import. They show ``timetable_summary``,
    ``timetable_description`` and ``schedule_interval``, stored beside it; only the
    scheduler asks for the timetable itself.
    ``catchup`` None means the ``[scheduler] catchup_by_default`` setting.
    ``schedule_interval`` is the API's ``ScheduleInterval`` (a ``CronExpression``,
    ``TimeDelta`` or ``RelativeDelta`` dict) or None.
    """

    dag_id: str
    fileloc: str
    timetable_data: Mapping[str, Any]
    timetable_summary: str = ""
    timetable_description: str = ""
    schedule_interval: Mapping[str, Any] | None = None
    dag_display_name: str = ""
    description: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    timezone: str = "UTC"
    catchup: bool | None = None
    tags: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    doc_md: str | None = None
    params: Mapping[str, SerializedParam] = field(default_factory=_empty)
    max_active_runs: int | None = None
    max_active_tasks: int | None = None
    dagrun_timeout: timedelta | None = None
    render_template_as_native_obj: bool = False
    has_on_success_callback: bool = False
    has_on_failure_callback: bool = False
    access_control: Mapping[str, Any] | None = None
    is_paused_upon_creation: bool | None = None
    default_view: str = "grid"
    orientation: str = "LR"
    owner_links: Mapping[str, str] = field(default_factory=_empty)
    template_searchpath: tuple[str, ...] = ()
    dataset_expression: Any = None
    dataset_uris: tuple[str, ...] = ()
    task_groups: tuple[SerializedTaskGroup, ...] = ()
    tasks: tuple[SerializedTask, ...] = ()

    @cached_property
    def timetable(self) -> Timetable:
        """The decoded timetable.

        Raises:
            InvalidInput: (``InvalidTimetable``) the timetable's class cannot be
                imported here, or its data is malformed.
        """
        return decode_timetable(dict(self.timetable_data))

    # -- identity --------------------------------------------------------------------

    @property
    def owner(self) -> str:
        """Owners of the DAG's tasks, comma separated, as Airflow shows them."""
        return ", ".join(self.owners)

    @property
    def is_dataset_triggered(self) -> bool:
        return self.dataset_expression is not None

    @property
    def has_task_concurrency_limits(self) -> bool:
        return any(
            task.max_active_tis_per_dag is not None or task.max_active_tis_per_dagrun is not None
            for task in self.tasks
        )

    # -- tasks -----------------------------------------------------------------------

    @cached_property
    def task_dict(self) -> Mapping[str, SerializedTask]:
        """Tasks by id, in definition order."""
        return MappingProxyType({task.task_id: task for task in self.tasks})

    @property
    def task_ids(self) -> list[str]:
        return list(self.task_dict)

    def has_task(self, task_id: str) -> bool:
        return task_id in self.task_dict

    def get_task(self, task_id: str) -> SerializedTask:
        """Return the task; raise NotFound naming the DAG when it has no such task."""
        try:
            return self.task_dict[task_id]
        except KeyError:
            raise NotFound(f"Task {task_id!r} not found in DAG {self.dag_id!r}") from None

    @property
    def roots(self) -> list[SerializedTask]:
        return [task for task in self.tasks if not task.upstream_task_ids]

    @property
    def leaves(self) -> list[SerializedTask]:
        return [task for task in self.tasks if not task.downstream_task_ids]

    # -- task groups -----------------------------------------------------------------

    @property
    def task_group(self) -> SerializedTaskGroup:
        """The root group, holding the top-level tasks and groups."""
        return self.task_groups[0] if self.task_groups else SerializedTaskGroup(None)

    @cached_property
    def task_group_dict(self) -> Mapping[str, SerializedTaskGroup]:
        """Every non-root group by id."""
        return MappingProxyType(
            {group.group_id: group for group in self.task_groups if group.group_id is not None}
        )

    # -- graph -----------------------------------------------------------------------

    @cached_property
    def _downstream(self) -> dict[str, tuple[str, ...]]:
        return {task.task_id: task.downstream_task_ids for task in self.tasks}

    @cached_property
    def _upstream(self) -> dict[str, tuple[str, ...]]:
        return {task.task_id: task.upstream_task_ids for task in self.tasks}

    @cached_property
    def _topological_ids(self) -> tuple[str, ...]:
        return tuple(graph.topological_order(self.task_ids, self._downstream, self._upstream))

    def topological_order(self) -> list[SerializedTask]:
        """Tasks ordered so each follows its upstream tasks (definition order on ties).

        Raises:
            CycleError: the document's edges form a cycle.
        """
        return [self.task_dict[task_id] for task_id in self._topological_ids]

    def relatives(
        self, task_ids: Iterable[str], *, upstream: bool = False, downstream: bool = False
    ) -> set[str]:
        """``task_ids`` plus, on request, every task upstream and/or downstream of them.

        Raises:
            NotFound: a task id is not in the DAG.
        """
        chosen = set(task_ids)
        for task_id in chosen:
            self.get_task(task_id)
        found = set(chosen)
        if upstream:
            found |= graph.reachable(chosen, self._upstream)
        if downstream:
            found |= graph.reachable(chosen, self._downstream)
        return found

    def priority_weights(self) -> Mapping[str, int]:
        """Each task's effective priority by its weight rule (``priority_weight_total``)."""
        return self._priority_weights

    @cached_property
    def _priority_weights(self) -> Mapping[str, int]:
        weights = {task.task_id: task.priority_weight for task in self.tasks}
        rules = {task.task_id: task.weight_rule for task in self.tasks}
        totals = graph.priority_weights(
            self._topological_ids, self._downstream, self._upstream, weights, rules
        )
        return MappingProxyType({task_id: totals[task_id] for task_id in self.task_dict})

    # -- params ----------------------------------------------------------------------

    def params_dict(self) -> ParamsDict:
        """The DAG's params as the SDK's ParamsDict, rebuilt from the stored form."""
        return ParamsDict({name: param.to_param() for name, param in self.params.items()})

    def resolve_params(self, conf: Mapping[str, Any] | None) -> dict[str, Any]:
        """The params a run with ``conf`` sees.

        Raises:
            InvalidInput: a required param is missing or a value breaks its schema.
        """
        return resolve_params(self.params_dict(), conf)

    def __repr__(self) -> str:
        return f"<SerializedDAG: {self.dag_id} ({len(self.tasks)} tasks)>"
