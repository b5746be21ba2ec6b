"""Short-circuiting: a tradewind dag that stops early when there is nothing to do.

When ``is_weekday`` returns a falsy value, everything downstream of it is skipped.
With ``ignore_downstream_trigger_rules=False`` only the direct downstream tasks are
skipped and later tasks follow their own trigger rules: ``always_notify`` still runs.
"""

from __future__ import annotations

from datetime import datetime

from tradewind import DAG, chain, task
from tradewind.operators import EmptyOperator, ShortCircuitOperator

with DAG(
    "example_short_circuit",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
    doc_md=__doc__,
) as dag:

    @task.short_circuit
    def is_weekday(logical_date: datetime | None = None) -> bool:
        return logical_date is None or logical_date.weekday() < 5

    chain(is_weekday(), EmptyOperator(task_id="work"), EmptyOperator(task_id="publish"))

    gate = ShortCircuitOperator(
        task_id="gate",
        python_callable=lambda: False,
        ignore_downstream_trigger_rules=False,
    )
    skipped = EmptyOperator(task_id="skipped")
    notify = EmptyOperator(task_id="always_notify", trigger_rule="all_done")
    gate >> skipped >> notify
