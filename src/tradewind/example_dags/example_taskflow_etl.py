"""Extract, transform, load with the TaskFlow API: a tradewind dag passing data by XCom.

``extract`` returns a dict of orders; ``transform`` returns two values with
``multiple_outputs`` so ``load`` can take each as its own argument. No explicit
``>>`` is needed: passing one task's result to another sets the dependency.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tradewind import dag, task


@dag(
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
)
def example_taskflow_etl() -> None:
    """### TaskFlow ETL

    Three tasks: `extract` >> `transform` >> `load`, with values passed as XComs.
    """

    @task
    def extract() -> dict[str, float]:
        """Pretend to read order totals from an upstream system."""
        data = '{"1001": 301.27, "1002": 433.21, "1003": 502.22}'
        orders: dict[str, float] = json.loads(data)
        return orders

    @task(multiple_outputs=True)
    def transform(orders: dict[str, float]) -> Any:
        """Sum the orders and count them; each key becomes its own XCom."""
        return {"total": round(sum(orders.values()), 2), "count": len(orders)}

    @task
    def load(total: float, count: int) -> str:
        """Print the summary; the returned line is the task's XCom."""
        line = f"{count} orders, total {total:.2f}"
        print(line)
        return line

    summary = transform(extract())
    load(summary["total"], summary["count"])


etl_dag = example_taskflow_etl()
