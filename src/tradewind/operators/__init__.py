"""Built-in operators: empty, Python (with branching and short-circuiting) and Bash.

They are written on top of ``tradewind.sdk`` only, exactly as a user's operator
would be: this package may import ``tradewind.sdk`` and ``tradewind.errors``, and
never storage, SQLAlchemy or the task runner. Each operator talks to Tradewind at
run time through the ``ti`` protocol in ``tradewind.sdk.runtime``, so it runs
unchanged in a worker, in ``tradewind dags test`` and in unit tests.
"""

from __future__ import annotations

from tradewind.operators.bash import BashOperator
from tradewind.operators.empty import EmptyOperator
from tradewind.operators.python import (
    BranchPythonOperator,
    PythonOperator,
    ShortCircuitOperator,
)

__all__ = [
    "BashOperator",
    "BranchPythonOperator",
    "EmptyOperator",
    "PythonOperator",
    "ShortCircuitOperator",
]
