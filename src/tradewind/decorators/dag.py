"""``@dag``: write a DAG as a function whose body creates its tasks.

Calling the decorated function builds and returns the DAG::

    @dag(schedule="@daily", start_date=datetime(2024, 1, 1))
    def etl(batch_size: int = 100):
        load(extract(batch_size))

    etl()          # the DAG "etl", with a param batch_size defaulting to 100

Each argument of the function becomes a DAG param (its default, or the value
passed to the call), and the body receives a :class:`DagParam` for it, so a run
triggered with ``{"batch_size": 5}`` sees 5.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, overload

from tradewind.sdk.dag import DAG
from tradewind.sdk.params import DagParam

DagFunction = Callable[..., Any]
DagFactory = Callable[..., DAG]


@overload
def dag(dag_id: DagFunction) -> DagFactory: ...


@overload
def dag(dag_id: str | None = None, **dag_kwargs: Any) -> Callable[[DagFunction], DagFactory]: ...


def dag(
    dag_id: str | DagFunction | None = None, **dag_kwargs: Any
) -> DagFactory | Callable[[DagFunction], DagFactory]:
    """Turn a function into a DAG factory; arguments are those of :class:`DAG`.

    Args:
        dag_id: the DAG's id; the function's name when omitted.
        **dag_kwargs: any other ``DAG`` argument (``schedule``, ``start_date``,
            ``params``, ``default_args`` ...). ``doc_md`` defaults to the function's
            docstring.

    Returns:
        A function with the decorated function's arguments; each call builds a new
        DAG, runs the body inside it, validates it and returns it.

    Raises:
        TypeError: (when called) an argument without a default was not given.
        DagDefinitionError, CycleError: (when called) the DAG is invalid.
    """
    if callable(dag_id):
        return _factory(dag_id, None, dag_kwargs)

    def decorator(function: DagFunction) -> DagFactory:
        return _factory(function, dag_id, dag_kwargs)

    return decorator


def _factory(function: DagFunction, dag_id: str | None, dag_kwargs: dict[str, Any]) -> DagFactory:
    signature = inspect.signature(function)

    @functools.wraps(function)
    def build(*args: Any, **kwargs: Any) -> DAG:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        new_dag = DAG(dag_id or function.__name__, **dag_kwargs)
        if function.__doc__ and not new_dag.doc_md:
            new_dag.doc_md = inspect.cleandoc(function.__doc__)
        for name, value in bound.arguments.items():
            if signature.parameters[name].kind not in _VARIADIC:
                new_dag.params[name] = value
                bound.arguments[name] = DagParam(name, value)
        with new_dag:
            function(*bound.args, **bound.kwargs)
        new_dag.validate()
        return new_dag

    return build


_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
