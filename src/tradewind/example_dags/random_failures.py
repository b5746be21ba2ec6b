"""A tradewind dag whose middle task fails about half the time.

Useful to watch retries, failure callbacks, ``upstream_failed`` and the grid
view's colours on a real run, without writing a broken task by hand.
"""

from __future__ import annotations

import random
from datetime import datetime

from tradewind import DAG
from tradewind.exceptions import AirflowException
from tradewind.operators import EmptyOperator, PythonOperator


def _flip_a_coin() -> str:
    if random.random() < 0.5:
        raise AirflowException("The coin came up tails: failing on purpose.")
    return "heads"


with DAG(
    "random_failures",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
    doc_md=__doc__,
) as dag:
    start = EmptyOperator(task_id="start")
    coin = PythonOperator(task_id="random-task", python_callable=_flip_a_coin)
    end = EmptyOperator(task_id="end")
    start >> coin >> end
