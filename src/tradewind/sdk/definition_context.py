"""Which DAG and task group a newly created task belongs to.

``with DAG(...)`` and ``with TaskGroup(...)`` push themselves here; operators created
inside read the innermost ones. Parsing happens in one thread of a child process,
so a plain module-level stack is enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradewind.sdk.dag import DAG
    from tradewind.sdk.task_group import TaskGroup

_dags: list[DAG] = []
_groups: list[TaskGroup] = []


def push_dag(dag: DAG) -> None:
    _dags.append(dag)


def pop_dag() -> DAG:
    return _dags.pop()


def current_dag() -> DAG | None:
    return _dags[-1] if _dags else None


def push_group(group: TaskGroup) -> None:
    _groups.append(group)


def pop_group() -> TaskGroup:
    return _groups.pop()


def current_group(dag: DAG | None) -> TaskGroup | None:
    """The innermost open group belonging to ``dag`` (its root group if none is open)."""
    for group in reversed(_groups):
        if group.dag is dag:
            return group
    return dag.task_group if dag is not None else None
