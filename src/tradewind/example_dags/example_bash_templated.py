"""Templated Bash commands: a tradewind dag rendering ``{{ ds }}``, ``{{ run_id }}`` and params.

Template fields are rendered with Jinja just before the task runs. ``params``
come from the DAG's ``Param`` defaults, overridden by the conf of a triggered run
(try ``{"greeting": "bonjour"}``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tradewind import DAG, Param
from tradewind.operators import BashOperator

with DAG(
    "example_bash_templated",
    schedule=timedelta(days=1),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
    params={
        "greeting": Param("hello", type="string", description="What to say"),
        "repeat": Param(2, type="integer", minimum=1, maximum=10),
    },
    doc_md=__doc__,
) as dag:
    say = BashOperator(
        task_id="say",
        bash_command=(
            "for i in $(seq {{ params.repeat }}); do "
            'echo "{{ params.greeting }} on {{ ds }} (run {{ run_id }})"; done'
        ),
    )
    with_env = BashOperator(
        task_id="with_env",
        bash_command='echo "logical date: $LOGICAL_DATE"',
        env={"LOGICAL_DATE": "{{ ds }}"},
        append_env=True,
    )
    skip_me = BashOperator(
        task_id="skip_me",
        bash_command="echo 'exit code 99 marks the task skipped'; exit 99",
    )
    say >> with_env >> skip_me
