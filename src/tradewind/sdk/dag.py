"""DAG: a pipeline definition — its tasks, their dependencies and its schedule.

A DAG is pure data built by running a DAG file; it touches no database. The DAG
processor serialises it for the scheduler, API and UI, and the task runner finds
tasks in it. Arguments keep Airflow's names (``schedule_interval`` and
``timetable`` are accepted as the older spellings of ``schedule``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tradewind.errors import (
    CycleError,
    DagDefinitionError,
    DuplicateTaskIdError,
    InvalidInput,
    NotFound,
)
from tradewind.sdk import definition_context
from tradewind.sdk.keys import validate_key
from tradewind.sdk.params import ParamsDict, resolve_params
from tradewind.sdk.task_group import TaskGroup
from tradewind.sdk.time import as_utc
from tradewind.sdk.timetables import Timetable, timetable_from_schedule

if TYPE_CHECKING:
    from types import TracebackType

    from tradewind.sdk.baseoperator import BaseOperator

DagCallback = Callable[[dict[str, Any]], Any]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_EXAMPLES_DIR = os.path.join(_PACKAGE_DIR, "example_dags")


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()

#: Airflow 2's schedule when a DAG names none: once a day.
DEFAULT_SCHEDULE = timedelta(days=1)


class DAG:
    """A directed acyclic graph of tasks with a schedule.

    Args:
        dag_id: unique id; letters, digits, ``_``, ``-`` and ``.`` only.
        schedule: cron string, preset (``@daily``), ``timedelta``, ``Timetable``,
            list of ``Dataset`` (or a dataset condition), or None for manual runs only.
            When omitted, once a day as in Airflow 2.
        start_date: first logical date; naive datetimes are UTC. Falls back to
            ``default_args["start_date"]``.
        end_date: no scheduled run starts after it.
        catchup: create runs for every missed interval; None means the
            ``[scheduler] catchup_by_default`` setting.
        default_args: default arguments of every task (owner, retries, ...).
        params: run parameters (plain values or ``Param``), overridable by a run's conf.
        max_active_runs, max_active_tasks: limits per DAG; None means the ``[core]``
            defaults ``max_active_runs_per_dag``/``max_active_tasks_per_dag``.
        dagrun_timeout: a run still going after this long is failed; None never times out.
        render_template_as_native_obj: render templates to Python objects, not strings.
    """

    def __init__(
        self,
        dag_id: str,
        description: str | None = None,
        schedule: Any = _UNSET,
        *,
        schedule_interval: Any = _UNSET,
        timetable: Timetable | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        catchup: bool | None = None,
        default_args: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        tags: Collection[str] | None = None,
        doc_md: str | None = None,
        max_active_runs: int | None = None,
        max_active_tasks: int | None = None,
        concurrency: int | None = None,
        dagrun_timeout: timedelta | None = None,
        on_success_callback: DagCallback | list[DagCallback] | None = None,
        on_failure_callback: DagCallback | list[DagCallback] | None = None,
        render_template_as_native_obj: bool = False,
        template_searchpath: str | Iterable[str] | None = None,
        template_undefined: type | None = None,
        user_defined_macros: dict[str, Any] | None = None,
        user_defined_filters: dict[str, Callable[..., Any]] | None = None,
        jinja_environment_kwargs: dict[str, Any] | None = None,
        access_control: dict[str, Any] | None = None,
        is_paused_upon_creation: bool | None = None,
        owner_links: dict[str, str] | None = None,
        dag_display_name: str | None = None,
        default_view: str = "grid",
        orientation: str = "LR",
        fileloc: str | None = None,
    ) -> None:
        self.dag_id = validate_key("dag_id", dag_id)
        self.description = description
        self.default_args = dict(default_args or {})
        self.start_date = as_utc(start_date or self.default_args.get("start_date"))
        self.end_date = as_utc(end_date or self.default_args.get("end_date"))
        self.timezone = _timezone_name(start_date or self.default_args.get("start_date"))
        self.timetable = self._timetable(schedule, schedule_interval, timetable)
        self.catchup = catchup
        self.params = ParamsDict(self.default_args.pop("params", None)).merged(params)
        self.tags = sorted(set(tags or ()))
        self.doc_md = _read_doc(doc_md)
        self.max_active_runs = max_active_runs
        self.max_active_tasks = max_active_tasks if max_active_tasks is not None else concurrency
        self.dagrun_timeout = dagrun_timeout
        if dagrun_timeout is not None and not isinstance(dagrun_timeout, timedelta):
            raise DagDefinitionError(f"DAG {dag_id!r}: dagrun_timeout must be a timedelta.")
        self.on_success_callback = on_success_callback
        self.on_failure_callback = on_failure_callback
        self.render_template_as_native_obj = render_template_as_native_obj
        if isinstance(template_searchpath, str):
            template_searchpath = [template_searchpath]
        self.template_searchpath = list(template_searchpath or [])
        self.template_undefined = template_undefined
        self.user_defined_macros = dict(user_defined_macros or {})
        self.user_defined_filters = dict(user_defined_filters or {})
        self.jinja_environment_kwargs = dict(jinja_environment_kwargs or {})
        self.access_control = access_control
        self.is_paused_upon_creation = is_paused_upon_creation
        self.owner_links = dict(owner_links or {})
        self.dag_display_name = dag_display_name or dag_id
        self.default_view = default_view
        self.orientation = orientation
        self.fileloc = fileloc or _caller_file()
        self.task_dict: dict[str, BaseOperator] = {}
        self.task_group = TaskGroup(None, dag=self)
        self.task_group_dict: dict[str, TaskGroup] = {}

    def _timetable(self, schedule: Any, schedule_interval: Any, timetable: Any) -> Timetable:
        given = [v for v in (schedule, schedule_interval) if v is not _UNSET]
        if timetable is not None:
            given.append(timetable)
        if len(given) > 1:
            raise DagDefinitionError(
                f"DAG {self.dag_id!r}: give only one of schedule, schedule_interval, timetable."
            )
        value = given[0] if given else DEFAULT_SCHEDULE
        try:
            return timetable_from_schedule(value, timezone=self.timezone)
        except DagDefinitionError:
            raise
        except InvalidInput as exc:  # from the timetable, e.g. a bad cron expression
            raise DagDefinitionError(f"DAG {self.dag_id!r}: {exc}") from exc

    # -- tasks -----------------------------------------------------------------------

    def add_task(self, task: BaseOperator) -> None:
        """Attach ``task``; raise DuplicateTaskIdError if another task has its id."""
        existing = self.task_dict.get(task.task_id)
        if existing is task:
            return
        if existing is not None:
            raise DuplicateTaskIdError(
                f"Task id {task.task_id!r} has already been added to the DAG {self.dag_id!r}."
            )
        if task.has_dag and task.dag is not self:
            raise DagDefinitionError(
                f"Task {task.task_id!r} already belongs to DAG {task.dag.dag_id!r}."
            )
        if task.start_date is None:
            task.start_date = self.start_date
        if task.end_date is None:
            task.end_date = self.end_date
        task._dag = self
        self.task_dict[task.task_id] = task
        if task.task_group is None:
            task.task_group = self.task_group
            self.task_group.add(task)

    def add_tasks(self, tasks: Iterable[BaseOperator]) -> None:
        for task in tasks:
            self.add_task(task)

    @property
    def tasks(self) -> list[BaseOperator]:
        return list(self.task_dict.values())

    @property
    def task_ids(self) -> list[str]:
        return list(self.task_dict)

    def has_task(self, task_id: str) -> bool:
        return task_id in self.task_dict

    def get_task(self, task_id: str) -> BaseOperator:
        """Return the task; raise NotFound naming the DAG when it has no such task."""
        try:
            return self.task_dict[task_id]
        except KeyError:
            raise NotFound(f"Task {task_id!r} not found in DAG {self.dag_id!r}") from None

    @property
    def roots(self) -> list[BaseOperator]:
        return [task for task in self.task_dict.values() if not task.upstream_task_ids]

    @property
    def leaves(self) -> list[BaseOperator]:
        return [task for task in self.task_dict.values() if not task.downstream_task_ids]

    @property
    def owner(self) -> str:
        """Owners of the DAG's tasks, comma separated, as Airflow shows them."""
        return ", ".join(sorted({task.owner for task in self.task_dict.values()}))

    @property
    def schedule_interval(self) -> Any:
        return self.timetable.summary

    @property
    def folder(self) -> str:
        return os.path.dirname(self.fileloc)

    def topological_sort(self) -> list[BaseOperator]:
        """Tasks ordered so each comes after its upstream tasks; raise CycleError if none exists."""
        self.check_cycle()
        remaining = {
            task_id: len(task.upstream_task_ids) for task_id, task in self.task_dict.items()
        }
        ready = [task_id for task_id, count in remaining.items() if count == 0]
        ordered: list[BaseOperator] = []
        while ready:
            task = self.task_dict[ready.pop(0)]
            ordered.append(task)
            for down in sorted(task.downstream_task_ids):
                remaining[down] -= 1
                if remaining[down] == 0:
                    ready.append(down)
        return ordered

    def check_cycle(self) -> None:
        """Raise CycleError naming the tasks of a cycle, if the dependencies contain one."""
        white, grey, black = 0, 1, 2
        color = dict.fromkeys(self.task_dict, white)
        for start in self.task_dict:
            if color[start] != white:
                continue
            path: list[str] = [start]
            stack = [iter(sorted(self.task_dict[start].downstream_task_ids))]
            color[start] = grey
            while stack:
                nxt = next(stack[-1], None)
                if nxt is None:
                    color[path.pop()] = black
                    stack.pop()
                    continue
                if color.get(nxt) == grey:
                    cycle = path[path.index(nxt) :] + [nxt]
                    raise CycleError(f"Cycle detected in DAG {self.dag_id!r}: {' >> '.join(cycle)}")
                if color.get(nxt) == white:
                    color[nxt] = grey
                    path.append(nxt)
                    stack.append(iter(sorted(self.task_dict[nxt].downstream_task_ids)))

    def validate(self) -> None:
        """Check what can only be checked once the whole DAG is defined.

        Raises:
            CycleError: the dependencies have a cycle.
            DagDefinitionError: a scheduled DAG has no start_date, or a param default is
                invalid.
        """
        self.check_cycle()
        if self.timetable.periodic and self.start_date is None:
            if not self.task_dict or any(t.start_date is None for t in self.task_dict.values()):
                raise DagDefinitionError(f"DAG {self.dag_id!r} has a schedule but no start_date.")

    def relatives(
        self, task_ids: Iterable[str], *, upstream: bool = False, downstream: bool = False
    ) -> set[str]:
        """``task_ids`` plus, on request, every task upstream and/or downstream of them."""
        chosen = set(task_ids)
        for task_id in list(chosen):
            task = self.get_task(task_id)
            if upstream:
                chosen |= task.get_flat_relative_ids(upstream=True)
            if downstream:
                chosen |= task.get_flat_relative_ids(upstream=False)
        return chosen

    def resolve_params(self, conf: dict[str, Any] | None) -> dict[str, Any]:
        """The params a run with ``conf`` sees; raise InvalidInput if conf breaks a Param."""
        return resolve_params(self.params, conf)

    # -- context manager ---------------------------------------------------------------

    def __enter__(self) -> DAG:
        definition_context.push_dag(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        definition_context.pop_dag()
        if exc_type is None:
            self.check_cycle()

    def __repr__(self) -> str:
        return f"<DAG: {self.dag_id}>"


def _timezone_name(start_date: datetime | None) -> str:
    tz = start_date.tzinfo if start_date is not None else None
    if tz is None:
        return "UTC"
    for attr in ("key", "name", "zone"):
        name = getattr(tz, attr, None)
        if isinstance(name, str) and name:
            return name
    offset = tz.utcoffset(start_date)
    return "UTC" if not offset else tz.tzname(start_date) or "UTC"


def _read_doc(doc_md: str | None) -> str | None:
    """A ``doc_md`` that names an existing ``.md`` file is replaced by the file's text."""
    if doc_md and doc_md.endswith(".md") and "\n" not in doc_md and os.path.isfile(doc_md):
        with open(doc_md, encoding="utf-8") as handle:
            return handle.read()
    return doc_md


def _caller_file() -> str:
    """The first file on the call stack outside Tradewind (the SDK, the decorators):
    the DAG file defining this DAG. The bundled example DAGs count as DAG files."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        path = os.path.abspath(filename)
        if not path.startswith(_PACKAGE_DIR) or path.startswith(_EXAMPLES_DIR):
            return filename
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>"
