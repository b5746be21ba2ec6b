"""Benchmark DAGs (tradewind): 200 independent no-op Python tasks, 200 `true` Bash tasks,
and a 1,000-task DAG (10 layers of 100)."""

from datetime import datetime

from tradewind import DAG
from tradewind.operators.bash import BashOperator
from tradewind.operators.python import PythonOperator

START = datetime(2024, 1, 1)

with DAG("bench_wide_python_200", schedule=None, start_date=START, catchup=False):
    for i in range(200):
        PythonOperator(task_id=f"p{i:03d}", python_callable=lambda: None)

with DAG("bench_wide_bash_200", schedule=None, start_date=START, catchup=False):
    for i in range(200):
        BashOperator(task_id=f"b{i:03d}", bash_command="true")

with DAG("bench_1000", schedule=None, start_date=START, catchup=False):
    previous: list[PythonOperator] = []
    for layer in range(10):
        current = [
            PythonOperator(task_id=f"l{layer}_{i:03d}", python_callable=lambda: None)
            for i in range(100)
        ]
        if previous:
            for up, down in zip(previous, current, strict=True):
                up >> down
        previous = current
