"""Branching: a tradewind dag that picks one of several paths per run, then joins them.

``choose`` returns the task id to follow; the other branches are skipped. The
``join`` task uses the ``none_failed_min_one_success`` trigger rule, so it runs
after whichever branch ran instead of being skipped with the others.
"""

from __future__ import annotations

from datetime import datetime

from tradewind import DAG, task
from tradewind.operators import BranchPythonOperator, EmptyOperator

BRANCHES = ["branch_a", "branch_b", "branch_c"]


def _choose(logical_date: datetime | None = None) -> str:
    """Follow one branch per day of the month, so successive runs take different paths."""
    day = logical_date.day if logical_date is not None else 0
    return BRANCHES[day % len(BRANCHES)]


with DAG(
    "example_branching",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
    doc_md=__doc__,
) as dag:
    start = EmptyOperator(task_id="start")
    choose = BranchPythonOperator(task_id="choose", python_callable=_choose)
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")

    start >> choose
    for name in BRANCHES:
        work = EmptyOperator(task_id=name)
        choose >> work >> join

    @task.branch
    def weekday_or_weekend(logical_date: datetime | None = None) -> str:
        """The same with @task.branch: weekend runs take the short path."""
        if logical_date is not None and logical_date.weekday() >= 5:
            return "weekend"
        return "weekday"

    after = EmptyOperator(task_id="done", trigger_rule="none_failed_min_one_success")
    decide = weekday_or_weekend()
    join >> decide
    decide >> [EmptyOperator(task_id="weekday"), EmptyOperator(task_id="weekend")] >> after
