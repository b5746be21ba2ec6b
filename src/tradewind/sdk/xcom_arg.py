"""XComArg: a task's future output, passed as an argument to another task.

``extract.output`` (or the return value of calling a ``@task`` function) is an
XComArg. Passing it to another task makes the producer an upstream task; when
the consumer runs, the runner replaces it with the value pulled from XCom.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tradewind.sdk.dependencies import lshift, rlshift, rrshift, rshift, set_relatives

if TYPE_CHECKING:
    from tradewind.sdk.baseoperator import BaseOperator

#: The XCom key a task's return value is stored under.
RETURN_VALUE_KEY = "return_value"


class XComArg:
    """The XCom value ``key`` of ``operator``; ``arg["name"]`` selects another key."""

    def __init__(self, operator: BaseOperator, key: str = RETURN_VALUE_KEY) -> None:
        self.operator = operator
        self.key = key

    def __getitem__(self, key: str) -> XComArg:
        return XComArg(self.operator, key)

    def __iter__(self) -> Any:
        raise TypeError("An XComArg is a future value; it cannot be iterated at parse time.")

    @property
    def roots(self) -> list[BaseOperator]:
        return [self.operator]

    @property
    def leaves(self) -> list[BaseOperator]:
        return [self.operator]

    def resolve(self, context: Mapping[str, Any]) -> Any:
        """Pull the value from XCom through the running task instance in ``context``."""
        return context["ti"].xcom_pull(task_ids=self.operator.task_id, key=self.key)

    __rshift__ = rshift
    __lshift__ = lshift
    __rrshift__ = rrshift
    __rlshift__ = rlshift

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, XComArg) and other.operator is self.operator and other.key == self.key
        )

    def __hash__(self) -> int:
        return hash((id(self.operator), self.key))

    def __repr__(self) -> str:
        return f"XComArg({self.operator.task_id!r}, {self.key!r})"


def iter_xcom_args(value: Any) -> list[XComArg]:
    """Every XComArg nested in ``value`` (lists, tuples, sets, dicts)."""
    found: list[XComArg] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, XComArg):
            found.append(item)
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found


def set_xcom_dependencies(task: BaseOperator, value: Any) -> None:
    """Make the producer of every XComArg in ``value`` an upstream of ``task``."""
    for arg in iter_xcom_args(value):
        set_relatives(arg.operator, task)


def resolve_xcom_args(value: Any, context: Mapping[str, Any]) -> Any:
    """``value`` with every nested XComArg replaced by its pulled value."""
    if isinstance(value, XComArg):
        return value.resolve(context)
    if isinstance(value, list):
        return [resolve_xcom_args(item, context) for item in value]
    if isinstance(value, tuple):
        return tuple(resolve_xcom_args(item, context) for item in value)
    if isinstance(value, dict):
        return {key: resolve_xcom_args(item, context) for key, item in value.items()}
    return value
