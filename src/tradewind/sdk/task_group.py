"""Task groups: named, nestable sets of tasks shown as one box in the graph view.

With ``prefix_group_id`` (the default) a task ``load`` in group ``etl`` gets the id
``etl.load``. A group can stand on either side of ``>>``: its roots are the tasks
with no upstream inside the group, its leaves those with no downstream inside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradewind.errors import DagDefinitionError
from tradewind.sdk import definition_context
from tradewind.sdk.dependencies import lshift, rlshift, rrshift, rshift
from tradewind.sdk.keys import validate_key

if TYPE_CHECKING:
    from types import TracebackType

    from tradewind.sdk.baseoperator import BaseOperator
    from tradewind.sdk.dag import DAG


class TaskGroup:
    """A group of tasks and nested groups.

    Args:
        group_id: the group's id; None only for a DAG's root group.
        prefix_group_id: prefix the ids of tasks (and nested groups) with ``group_id.``.
        tooltip: text shown when hovering over the group in the UI.
        ui_color, ui_fgcolor: the group box's colours.
        default_args: defaults for the tasks of the group, laid over the DAG's.
        parent_group: the enclosing group; the innermost open group when None.
        dag: the DAG; the enclosing DAG when None.
    """

    def __init__(
        self,
        group_id: str | None,
        *,
        prefix_group_id: bool = True,
        tooltip: str = "",
        ui_color: str = "CornflowerBlue",
        ui_fgcolor: str = "#000",
        default_args: dict[str, Any] | None = None,
        parent_group: TaskGroup | None = None,
        dag: DAG | None = None,
        add_suffix_on_collision: bool = False,
    ) -> None:
        self.prefix_group_id = prefix_group_id
        self.tooltip = tooltip
        self.ui_color = ui_color
        self.ui_fgcolor = ui_fgcolor
        self.default_args = dict(default_args or {})
        self.children: dict[str, BaseOperator | TaskGroup] = {}
        self.upstream_group_ids: set[str] = set()
        self.downstream_group_ids: set[str] = set()
        self.upstream_task_ids: set[str] = set()
        self.downstream_task_ids: set[str] = set()
        if group_id is None:
            if parent_group is not None:
                raise DagDefinitionError("Only a DAG's root task group may have no group_id.")
            self._group_id: str | None = None
            self.parent_group: TaskGroup | None = None
            self.dag = dag
            return
        validate_key("group_id", group_id)
        if dag is None:
            dag = parent_group.dag if parent_group is not None else None
        if dag is None:
            dag = definition_context.current_dag()
        if dag is None:
            raise DagDefinitionError(f"TaskGroup {group_id!r} must be created inside a DAG.")
        self.dag = dag
        self.parent_group = parent_group or definition_context.current_group(dag)
        assert self.parent_group is not None
        self._group_id = self.parent_group.child_id(group_id)
        if self._group_id in dag.task_group_dict or self._group_id in dag.task_dict:
            if not add_suffix_on_collision:
                raise DagDefinitionError(
                    f"The group_id {self._group_id!r} has already been added to the DAG."
                )
            self._group_id = _next_free_id(dag, self._group_id)
        self._label = group_id
        self.parent_group.add(self)
        dag.task_group_dict[self._group_id] = self

    @property
    def group_id(self) -> str | None:
        return self._group_id

    @property
    def is_root(self) -> bool:
        return self._group_id is None

    @property
    def label(self) -> str | None:
        return self._label if self._group_id is not None else None

    def child_id(self, label: str) -> str:
        """The full id of a child called ``label``.

        A group with ``prefix_group_id=False`` leaves its children's labels as they
        are, even inside a prefixing group: Airflow's rule, which ported task ids
        depend on.
        """
        if self._group_id is not None and self.prefix_group_id:
            return f"{self._group_id}.{label}"
        return label

    def add(self, node: BaseOperator | TaskGroup) -> None:
        key = node.group_id if isinstance(node, TaskGroup) else node.task_id
        assert key is not None
        if key in self.children:
            raise DagDefinitionError(f"{key!r} has already been added to the group.")
        self.children[key] = node

    def inherited_default_args(self) -> dict[str, Any]:
        """default_args of the enclosing groups, inner ones winning."""
        merged = self.parent_group.inherited_default_args() if self.parent_group else {}
        merged.update(self.default_args)
        return merged

    def iter_tasks(self) -> list[BaseOperator]:
        tasks: list[BaseOperator] = []
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                tasks.extend(child.iter_tasks())
            else:
                tasks.append(child)
        return tasks

    @property
    def roots(self) -> list[BaseOperator]:
        tasks = self.iter_tasks()
        ids = {task.task_id for task in tasks}
        return [task for task in tasks if not task.upstream_task_ids & ids]

    @property
    def leaves(self) -> list[BaseOperator]:
        tasks = self.iter_tasks()
        ids = {task.task_id for task in tasks}
        return [task for task in tasks if not task.downstream_task_ids & ids]

    __rshift__ = rshift
    __lshift__ = lshift
    __rrshift__ = rrshift
    __rlshift__ = rlshift

    def __enter__(self) -> TaskGroup:
        definition_context.push_group(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        definition_context.pop_group()

    def __repr__(self) -> str:
        return f"<TaskGroup: {self._group_id}>"


def _next_free_id(dag: DAG, base: str) -> str:
    n = 1
    while f"{base}__{n}" in dag.task_group_dict:
        n += 1
    return f"{base}__{n}"
