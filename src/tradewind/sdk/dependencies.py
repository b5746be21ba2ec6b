"""Setting dependencies between tasks, task groups, XComArgs and lists of them.

Every node that can stand on either side of ``>>`` exposes ``roots`` and
``leaves`` (lists of operators); ``a >> b`` links each leaf of ``a`` to each root
of ``b``. ``chain`` and ``cross_downstream`` are built on the same function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from tradewind.errors import DagDefinitionError

if TYPE_CHECKING:
    from tradewind.sdk.baseoperator import BaseOperator


class DependencyNode(Protocol):
    @property
    def roots(self) -> list[BaseOperator]: ...

    @property
    def leaves(self) -> list[BaseOperator]: ...


def _nodes(value: Any) -> list[DependencyNode]:
    if isinstance(value, list | tuple | set):
        nodes: list[DependencyNode] = []
        for item in value:
            nodes.extend(_nodes(item))
        return nodes
    if hasattr(value, "roots") and hasattr(value, "leaves"):
        return [value]
    raise DagDefinitionError(
        f"Dependencies can be set between tasks, task groups, XComArgs and lists of them; "
        f"got {type(value).__name__}."
    )


def set_relatives(upstream: Any, downstream: Any) -> None:
    """Make every leaf of ``upstream`` a direct upstream of every root of ``downstream``."""
    for up_node in _nodes(upstream):
        for down_node in _nodes(downstream):
            for leaf in up_node.leaves:
                for root in down_node.roots:
                    link(leaf, root)


def link(upstream: BaseOperator, downstream: BaseOperator) -> None:
    """Add the edge ``upstream >> downstream``, putting both in one DAG."""
    if upstream is downstream:
        raise DagDefinitionError(f"Task {upstream.task_id!r} cannot depend on itself.")
    if upstream.has_dag and downstream.has_dag and upstream.dag is not downstream.dag:
        raise DagDefinitionError(
            f"Tried to set relationships between tasks in more than one DAG: "
            f"{upstream.dag.dag_id!r} and {downstream.dag.dag_id!r}"
        )
    if upstream.has_dag and not downstream.has_dag:
        upstream.dag.add_task(downstream)
    elif downstream.has_dag and not upstream.has_dag:
        downstream.dag.add_task(upstream)
    upstream.downstream_task_ids.add(downstream.task_id)
    downstream.upstream_task_ids.add(upstream.task_id)


def chain(*elements: Any) -> None:
    """Link each element to the next: ``chain(a, [b, c], d)`` is ``a >> [b, c] >> d``.

    Two adjacent lists must have the same length and are linked pairwise, as in Airflow.
    """
    for left, right in zip(elements, elements[1:], strict=False):
        if isinstance(left, Sequence) and isinstance(right, Sequence):
            if len(left) != len(right):
                raise DagDefinitionError(
                    f"chain() got adjacent lists of different lengths: {len(left)} and "
                    f"{len(right)}."
                )
            for up, down in zip(left, right, strict=True):
                set_relatives(up, down)
        else:
            set_relatives(left, right)


def cross_downstream(from_tasks: Sequence[Any], to_tasks: Sequence[Any] | Any) -> None:
    """Make every task of ``from_tasks`` upstream of every task of ``to_tasks``."""
    for task in from_tasks:
        set_relatives(task, to_tasks)


# The ``>>``/``<<`` operators of every dependency node (operators, task groups, XComArgs),
# written once and assigned as class attributes (``__rshift__ = rshift``) rather than
# inherited from a mixin.


def rshift(self: Any, other: Any) -> Any:
    """``self >> other``: returns ``other`` so chains read left to right."""
    set_relatives(self, other)
    return other


def lshift(self: Any, other: Any) -> Any:
    """``self << other``: returns ``other``."""
    set_relatives(other, self)
    return other


def rrshift(self: Any, other: Any) -> Any:
    """``[a, b] >> self``."""
    set_relatives(other, self)
    return self


def rlshift(self: Any, other: Any) -> Any:
    """``[a, b] << self``."""
    set_relatives(self, other)
    return self
