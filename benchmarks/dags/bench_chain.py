"""Benchmark DAG (tradewind): a chain of 40 tasks, each computing for about 10 ms."""

from datetime import datetime

from tradewind import DAG, chain
from tradewind.operators.python import PythonOperator


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def compute() -> None:
    fib(23)


with DAG("bench_chain_40", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
    chain(*[PythonOperator(task_id=f"t{i:02d}", python_callable=compute) for i in range(40)])
