"""The decorators of the TaskFlow API: ``@dag``, ``@task`` (and its variants), ``@task_group``.

They build ordinary DAGs, operators and task groups, so everything downstream
(serialization, scheduler, runner) sees no difference from classic operators.
The package sits above ``tradewind.operators`` (``@task`` creates a PythonOperator
subclass) and below everything else, as ``airflow.decorators`` does in Airflow 2;
``tradewind`` re-exports ``dag``, ``task`` and ``task_group``.
"""

from __future__ import annotations

from tradewind.decorators.dag import dag
from tradewind.decorators.task import TaskDecorator, TaskDecoratorCollection, task
from tradewind.decorators.task_group import TaskGroupFactory, task_group

__all__ = [
    "TaskDecorator",
    "TaskDecoratorCollection",
    "TaskGroupFactory",
    "dag",
    "task",
    "task_group",
]
