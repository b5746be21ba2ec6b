"""The decorators of the TaskFlow API: ``@dag``, ``@task`` (and its variants), ``@task_group``.

They build ordinary DAGs, operators and task groups, so everything downstream
(serialization, scheduler, runner) sees no difference from classic operators.
This is the one part of ``tradewind.sdk`` that imports ``tradewind.operators``:
``@task`` creates a PythonOperator subclass, as in Airflow. The core modules of
``tradewind.sdk`` never import this package, so there is no cycle (the exception
is declared in pyproject.toml's import-linter contract).
"""

from __future__ import annotations

from tradewind.sdk.decorators.dag import dag
from tradewind.sdk.decorators.task import TaskDecorator, TaskDecoratorCollection, task
from tradewind.sdk.decorators.task_group import TaskGroupFactory, task_group

__all__ = [
    "TaskDecorator",
    "TaskDecoratorCollection",
    "TaskGroupFactory",
    "dag",
    "task",
    "task_group",
]
