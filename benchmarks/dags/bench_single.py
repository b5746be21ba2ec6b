"""Benchmark DAG (tradewind): one no-op task, for trigger-to-start latency."""

from datetime import datetime

from tradewind import DAG
from tradewind.operators.python import PythonOperator

with DAG("bench_single", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
    PythonOperator(task_id="noop", python_callable=lambda: None)
