"""The operators ``@task``, ``@task.branch`` and ``@task.short_circuit`` create.

Each is the matching built-in Python operator, named after its decorator in the UI.
``multiple_outputs`` needs nothing here: it is a BaseOperator argument, and the
task runner pushes each key of the returned dict for any operator that sets it.
"""

from __future__ import annotations

from typing import ClassVar

from tradewind.operators.python import (
    BranchPythonOperator,
    PythonOperator,
    ShortCircuitOperator,
)


class PythonDecoratedOperator(PythonOperator):
    """The task a ``@task`` function call creates."""

    custom_operator_name: ClassVar[str | None] = "@task"


class BranchPythonDecoratedOperator(BranchPythonOperator):
    """The task a ``@task.branch`` function call creates."""

    custom_operator_name: ClassVar[str | None] = "@task.branch"


class ShortCircuitDecoratedOperator(ShortCircuitOperator):
    """The task a ``@task.short_circuit`` function call creates."""

    custom_operator_name: ClassVar[str | None] = "@task.short_circuit"
