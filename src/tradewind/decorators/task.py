"""``@task``: write a task as a plain Python function (Airflow's TaskFlow API).

Decorating a function gives a *task factory*. Calling the factory inside a DAG
creates one task and returns its ``XComArg``; passing that XComArg to another
factory call makes the first task upstream of the second and, at run time, hands
it the first task's return value::

    @task
    def extract() -> dict[str, int]: ...      # dict return: multiple_outputs inferred

    @task(retries=2)
    def load(total: int) -> None: ...

    load(extract()["total"])

Calling the same factory twice in one DAG gives the ids ``name``, ``name__1``,
``name__2`` as Airflow does. Parameters named like context entries (``ti``, ``ds``,
``params``...) need not be passed: the runner fills them, so they may only default
to None.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any, overload

from tradewind.decorators.bash import BashDecoratedOperator
from tradewind.decorators.python import (
    BranchPythonDecoratedOperator,
    PythonDecoratedOperator,
    ShortCircuitDecoratedOperator,
)
from tradewind.errors import DagDefinitionError
from tradewind.operators.python import KNOWN_CONTEXT_KEYS
from tradewind.sdk import definition_context
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.dag import DAG
from tradewind.sdk.task_group import TaskGroup
from tradewind.sdk.xcom_arg import XComArg

AnyFunction = Callable[..., Any]


class TaskDecorator:
    """A task factory: a decorated function that creates a task each time it is called.

    Attributes:
        function: the undecorated function, for calling it directly in unit tests.
        operator_class: the operator each call creates.
        kwargs: operator arguments given to the decorator or ``override``.
    """

    def __init__(
        self,
        function: AnyFunction,
        operator_class: type[BaseOperator],
        kwargs: Mapping[str, Any],
    ) -> None:
        if not callable(function):
            raise TypeError(f"@task needs a function; got {type(function).__name__}.")
        self.function = function
        self.operator_class = operator_class
        self.kwargs = dict(kwargs)
        self.__name__ = getattr(function, "__name__", type(function).__name__)
        self.__doc__ = function.__doc__
        self.__wrapped__ = function

    @property
    def task_id(self) -> str:
        return str(self.kwargs.get("task_id") or self.__name__)

    def override(self, **kwargs: Any) -> TaskDecorator:
        """A copy of this factory with some operator arguments replaced (``task_id``,
        ``retries``, ``pool`` ...); the original is unchanged."""
        return TaskDecorator(self.function, self.operator_class, {**self.kwargs, **kwargs})

    def __call__(self, *args: Any, **kwargs: Any) -> XComArg:
        """Create the task in the current DAG and task group; return its XComArg.

        Raises:
            DagDefinitionError: the arguments do not fit the function's signature, or a
                context parameter has a default other than None.
        """
        check_arguments(self.function, args, kwargs)
        operator_kwargs = dict(self.kwargs)
        operator_kwargs["task_id"] = unique_task_id(
            self.task_id, operator_kwargs.get("dag"), operator_kwargs.get("task_group")
        )
        if issubclass(self.operator_class, PythonDecoratedOperator):
            if operator_kwargs.get("multiple_outputs") is None:
                operator_kwargs["multiple_outputs"] = infers_multiple_outputs(self.function)
        else:
            operator_kwargs.pop("multiple_outputs", None)
        operator = self.operator_class(
            python_callable=self.function,
            op_args=args,
            op_kwargs=kwargs,
            **operator_kwargs,
        )
        if self.function.__doc__ and not (operator.doc_md or operator.doc):
            operator.doc_md = inspect.cleandoc(self.function.__doc__)
        return XComArg(operator)

    def __repr__(self) -> str:
        return f"<TaskDecorator {self.operator_class.__name__}: {self.task_id}>"


class TaskDecoratorFactory:
    """One kind of ``@task``: used bare (``@task``) or with operator arguments
    (``@task(retries=2)``), it turns a function into a :class:`TaskDecorator`."""

    def __init__(self, operator_class: type[BaseOperator]) -> None:
        self.operator_class = operator_class

    @overload
    def __call__(self, python_callable: AnyFunction, /) -> TaskDecorator: ...

    @overload
    def __call__(
        self, python_callable: None = None, /, **kwargs: Any
    ) -> Callable[[AnyFunction], TaskDecorator]: ...

    def __call__(
        self, python_callable: AnyFunction | None = None, /, **kwargs: Any
    ) -> TaskDecorator | Callable[[AnyFunction], TaskDecorator]:
        if python_callable is not None:
            return TaskDecorator(python_callable, self.operator_class, kwargs)

        def decorator(function: AnyFunction) -> TaskDecorator:
            return TaskDecorator(function, self.operator_class, kwargs)

        return decorator


class TaskDecoratorCollection(TaskDecoratorFactory):
    """The ``task`` object: ``@task`` itself, which runs the function as a Python task, and
    its variants.

    - ``task.python``: the same as ``@task``. ``multiple_outputs`` None (the default)
      infers it from a ``dict``/``TypedDict`` return annotation.
    - ``task.branch``: the function returns the task id(s) to follow; the other direct
      downstream tasks are skipped (see ``BranchPythonOperator``).
    - ``task.short_circuit``: a falsy return skips downstream tasks (see
      ``ShortCircuitOperator``; ``ignore_downstream_trigger_rules`` is accepted).
    - ``task.bash``: the function returns a command, run as ``BashOperator`` runs one.
    """

    python = TaskDecoratorFactory(PythonDecoratedOperator)
    branch = TaskDecoratorFactory(BranchPythonDecoratedOperator)
    short_circuit = TaskDecoratorFactory(ShortCircuitDecoratedOperator)
    bash = TaskDecoratorFactory(BashDecoratedOperator)

    def __init__(self) -> None:
        super().__init__(PythonDecoratedOperator)


#: The ``@task`` decorator and its variants.
task = TaskDecoratorCollection()


def check_arguments(
    function: AnyFunction, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> None:
    """Fail at parse time, not at run time, when a call cannot bind to ``function``.

    Context parameters count as given (the runner fills them), which is why they may
    only default to None: any other default would be silently ignored.
    """
    name = getattr(function, "__name__", "task")
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())
    for param in parameters:
        if param.name in KNOWN_CONTEXT_KEYS and param.default not in (None, param.empty):
            raise DagDefinitionError(
                f"Context key parameter {param.name} of {name}() can't have a default other "
                "than None."
            )
    filled = [
        param.replace(default=None)
        if param.name in KNOWN_CONTEXT_KEYS and param.kind not in _VARIADIC
        else param
        for param in parameters
    ]
    try:
        signature = signature.replace(parameters=filled)
    except ValueError as exc:
        raise DagDefinitionError(
            f"{name}(): a context parameter before a parameter without a default must "
            f"itself default to None ({exc})."
        ) from None
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise DagDefinitionError(f"{name}(): {exc}") from None


_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def unique_task_id(task_id: str, dag: DAG | None, group: TaskGroup | None) -> str:
    """``task_id``, or ``task_id__N`` with the next free N when the DAG already has it."""
    dag = dag or (group.dag if group is not None else None) or definition_context.current_dag()
    if dag is None:
        return task_id
    group = group or definition_context.current_group(dag)
    full_id = group.child_id(task_id) if group is not None else task_id
    if full_id not in dag.task_dict:
        return task_id
    prefix = re.split(r"__\d+$", full_id)[0]
    pattern = re.compile(rf"^{re.escape(prefix)}__(\d+)$")
    suffixes = [int(m.group(1)) for t in dag.task_dict if (m := pattern.match(t))]
    core = re.split(r"__\d+$", task_id)[0]
    return f"{core}__{max(suffixes, default=0) + 1}"


def infers_multiple_outputs(function: AnyFunction) -> bool:
    """True when the return annotation is a mapping type (``dict[str, int]``, a TypedDict)."""
    if "return" not in getattr(function, "__annotations__", {}):
        return False
    try:
        return_type = typing.get_type_hints(function).get("return", Any)
    except Exception:  # an annotation that cannot be evaluated here says nothing
        return False
    origin = typing.get_origin(return_type) or return_type
    return isinstance(origin, type) and issubclass(origin, Mapping)
