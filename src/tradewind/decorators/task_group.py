"""``@task_group``: write a task group as a function whose body creates its tasks.

Each call creates a new group (``name``, then ``name__1`` ... on collision, as in
Airflow) and runs the body inside it. The call returns what the body returns, or
the group itself when the body returns nothing, so both of these work::

    extract() >> my_group() >> load()          # the group's roots and leaves
    load(my_group(extract()))                  # the XComArg the body returned
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, overload

from tradewind.sdk.task_group import TaskGroup

GroupFunction = Callable[..., Any]


class TaskGroupFactory:
    """A decorated function that creates a task group each time it is called.

    Attributes:
        function: the undecorated function.
        tg_kwargs: ``TaskGroup`` arguments given to the decorator or ``override``.
    """

    def __init__(self, function: GroupFunction, tg_kwargs: Mapping[str, Any]) -> None:
        self.function = function
        self.tg_kwargs = dict(tg_kwargs)
        self.__name__ = getattr(function, "__name__", "task_group")
        self.__doc__ = function.__doc__
        self.__wrapped__ = function

    def override(self, **kwargs: Any) -> TaskGroupFactory:
        """A copy with some TaskGroup arguments (``group_id``, ``tooltip`` ...) replaced."""
        return TaskGroupFactory(self.function, {**self.tg_kwargs, **kwargs})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Create the group in the current DAG and group, and run the body inside it.

        Returns:
            The body's return value, or the TaskGroup when the body returned None.
        """
        tg_kwargs = {"add_suffix_on_collision": True, **self.tg_kwargs}
        group_id = tg_kwargs.pop("group_id", None) or self.__name__
        with TaskGroup(group_id, **tg_kwargs) as group:
            if self.function.__doc__ and not group.tooltip:
                group.tooltip = inspect.cleandoc(self.function.__doc__)
            result = self.function(*args, **kwargs)
        return group if result is None else result

    def __repr__(self) -> str:
        return f"<TaskGroupFactory: {self.__name__}>"


@overload
def task_group(python_callable: GroupFunction, /) -> TaskGroupFactory: ...


@overload
def task_group(
    python_callable: None = None, /, **tg_kwargs: Any
) -> Callable[[GroupFunction], TaskGroupFactory]: ...


def task_group(
    python_callable: GroupFunction | None = None, /, **tg_kwargs: Any
) -> TaskGroupFactory | Callable[[GroupFunction], TaskGroupFactory]:
    """``@task_group`` / ``@task_group(group_id=..., tooltip=..., default_args=...)``.

    Arguments are those of :class:`TaskGroup`; ``group_id`` defaults to the function's
    name and ``tooltip`` to its docstring.
    """
    if python_callable is not None:
        return TaskGroupFactory(python_callable, tg_kwargs)

    def decorator(function: GroupFunction) -> TaskGroupFactory:
        return TaskGroupFactory(function, tg_kwargs)

    return decorator
