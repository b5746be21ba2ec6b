"""DAG files for the ``/dags``, ``/dagSources``, ``/dagStats`` and ``/dagWarnings`` tests.

``etl`` is rich (cron schedule, tags, params, docs, two owners, a tuned task), ``reports``
runs every hour, ``adhoc`` has no schedule and is paused upon creation.
"""

from __future__ import annotations

from collections.abc import Callable

ETL = '''
"""Nightly extract and load."""
from datetime import datetime, timedelta

from tradewind import DAG
from tradewind.operators import BashOperator, EmptyOperator
from tradewind.sdk import Param

with DAG(
    "etl",
    schedule="0 3 * * *",
    start_date=datetime(2024, 1, 1),
    end_date=datetime(2030, 1, 1),
    catchup=False,
    description="Nightly ETL",
    tags=["nightly", "finance"],
    params={"rows": Param(10, type="integer", minimum=0, description="Rows to load")},
    doc_md=__doc__,
    dagrun_timeout=timedelta(hours=2),
    template_searchpath=["/opt/sql"],
    is_paused_upon_creation=False,
    default_args={"owner": "data"},
) as dag:
    extract = BashOperator(
        task_id="extract",
        bash_command="echo extract",
        retries=3,
        retry_delay=timedelta(minutes=1),
        execution_timeout=timedelta(minutes=30),
        priority_weight=5,
        doc_md="Pulls the rows.",
    )
    load = EmptyOperator(task_id="load", owner="ops", trigger_rule="all_done")
    extract >> load
'''

REPORTS = """
from datetime import datetime, timedelta

from tradewind import DAG
from tradewind.operators import EmptyOperator

with DAG(
    "reports",
    schedule=timedelta(hours=1),
    start_date=datetime(2024, 1, 1),
    tags=["finance"],
    is_paused_upon_creation=False,
) as dag:
    EmptyOperator(task_id="render")
"""

ADHOC = """
from tradewind import DAG
from tradewind.operators import EmptyOperator

with DAG("adhoc", schedule=None, is_paused_upon_creation=True) as dag:
    EmptyOperator(task_id="poke")
"""

AddDagFile = Callable[[str, str], None]


def add_dags(add_dag_file: AddDagFile) -> None:
    """Store ``etl``, ``reports`` and ``adhoc`` (one file each) as the DAG processor does."""
    add_dag_file("etl.py", ETL)
    add_dag_file("reports.py", REPORTS)
    add_dag_file("adhoc.py", ADHOC)
