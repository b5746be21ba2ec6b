"""Task groups, nested: a tradewind dag that shows collapsible boxes in the graph view.

``with TaskGroup(...)`` and ``@task_group`` are equivalent; groups can nest, and a
whole group can stand on either side of ``>>``. Task ids get the group prefix
(``section_1.inner.task_1``).
"""

from __future__ import annotations

from datetime import datetime

from tradewind import DAG, TaskGroup, task, task_group
from tradewind.operators import BashOperator, EmptyOperator

with DAG(
    "example_task_group",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
    doc_md=__doc__,
) as dag:
    start = EmptyOperator(task_id="start")

    with TaskGroup("section_1", tooltip="Tasks for section_1") as section_1:
        first = EmptyOperator(task_id="task_1")
        with TaskGroup("inner", tooltip="A group inside section_1") as inner:
            EmptyOperator(task_id="task_1") >> BashOperator(task_id="task_2", bash_command="echo 1")
        first >> inner

    @task
    def fetch(n: int) -> int:
        return n * 10

    @task
    def report(values: list[int]) -> int:
        return sum(values)

    @task_group
    def section_2(count: int) -> None:
        """Fetch a few values in parallel, then report their sum.

        Returning nothing makes the call return the group itself, so ``>>`` links to
        its first and last tasks; returning ``report(...)`` would link to report only.
        """
        report([fetch.override(task_id=f"fetch_{i}")(i) for i in range(count)])

    end = EmptyOperator(task_id="end")
    start >> section_1 >> section_2(3) >> end
