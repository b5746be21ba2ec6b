"""Helpers of the executor contract tests (imported by name; tests/ has no packages)."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tradewind.executors.base import TaskWorkload
from tradewind.storage.engine import transaction
from tradewind.storage.tables import DagRow, DagRunRow, TaskInstanceRow

DAG_ID = "contract"

#: The DAG every contract test runs tasks of; ``{side_effects}`` is a file path.
DAG_SOURCE = """\
import os
import signal
import time
from datetime import datetime, timedelta

from tradewind import DAG
from tradewind.operators.python import BranchPythonOperator, PythonOperator

SIDE_EFFECTS = {side_effects!r}


def push():
    return {{"n": 41}}


def pull(ti):
    return ti.xcom_pull(task_ids="push")["n"] + 1


def fail():
    raise ValueError("boom")


def append(ti):
    with open(SIDE_EFFECTS, "a") as file:
        file.write(f"append {{ti.try_number}}\\n")


def exit3():
    os._exit(3)


def sigkill():
    os.kill(os.getpid(), signal.SIGKILL)


def loud():
    line = "x" * 999
    for _ in range(5200):
        print(line)


def sleepy():
    time.sleep(30)


def secret(var):
    print("password is", var.value.get("db_password"))


def note_own_return_value(context):
    with open(SIDE_EFFECTS, "a") as file:
        file.write(repr(context["ti"].xcom_pull(task_ids="own")) + "\\n")


def lean():
    import sys

    with open(SIDE_EFFECTS, "a") as file:
        file.write(f"sqlalchemy imported: {{'sqlalchemy' in sys.modules}}\\n")


def whoami():
    with open(SIDE_EFFECTS, "a") as file:
        file.write(f"{{os.getpid()}}\\n")


def unserialisable():
    return object()


def early_then_late(ti):
    ti.xcom_push("early", "pushed at once")
    deadline = time.monotonic() + 20
    while not os.path.exists(SIDE_EFFECTS) and time.monotonic() < deadline:
        time.sleep(0.01)
    return "late"


with DAG("contract", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    PythonOperator(task_id="push", python_callable=push)
    PythonOperator(task_id="pull", python_callable=pull)
    PythonOperator(task_id="fail", python_callable=fail, retries=1, retry_delay=timedelta(0))
    PythonOperator(task_id="append", python_callable=append)
    PythonOperator(task_id="exit3", python_callable=exit3)
    PythonOperator(task_id="sigkill", python_callable=sigkill)
    PythonOperator(task_id="loud", python_callable=loud)
    PythonOperator(
        task_id="sleepy", python_callable=sleepy, execution_timeout=timedelta(seconds=0.5)
    )
    PythonOperator(task_id="forever", python_callable=sleepy)
    PythonOperator(task_id="secret", python_callable=secret)
    PythonOperator(
        task_id="own", python_callable=push, on_success_callback=note_own_return_value
    )
    PythonOperator(task_id="unserialisable", python_callable=unserialisable)
    PythonOperator(task_id="lean", python_callable=lean)
    PythonOperator(task_id="whoami", python_callable=whoami)
    PythonOperator(
        task_id="templated",
        python_callable=lambda text: text,
        op_args=["{{{{ conn.warehouse.host }}}}:{{{{ var.json.limits.rows }}}}"],
    )
    PythonOperator(task_id="early_then_late", python_callable=early_then_late)
    branch = BranchPythonOperator(task_id="branch", python_callable=lambda: "right")
    branch >> [
        PythonOperator(task_id="left", python_callable=push),
        PythonOperator(task_id="right", python_callable=push),
    ]
"""

_runs = itertools.count()


def make_try(
    sessions: sessionmaker[Session],
    dag_file: Path,
    task_id: str,
    *,
    run_id: str | None = None,
    state: str | None = "queued",
    max_tries: int = 0,
) -> TaskWorkload:
    """A task instance row as the scheduler leaves it (try 1), in a new run unless given."""
    with transaction(sessions, sqlite_begin="IMMEDIATE") as session:
        if session.get(DagRow, DAG_ID) is None:
            session.add(DagRow(dag_id=DAG_ID, fileloc=str(dag_file), is_active=True))
            session.flush()
        if run_id is None:
            number = next(_runs)
            run_id = f"manual__{number}"
            session.add(
                DagRunRow(
                    dag_id=DAG_ID,
                    run_id=run_id,
                    run_type="manual",
                    logical_date=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=number),
                    state="running",
                    conf={},
                )
            )
            session.flush()
        row = TaskInstanceRow(
            dag_id=DAG_ID,
            run_id=run_id,
            task_id=task_id,
            state=state,
            try_number=1,
            max_tries=max_tries,
        )
        session.add(row)
        session.flush()
        ti_id = row.id
    return TaskWorkload(
        ti_id=ti_id,
        dag_id=DAG_ID,
        run_id=run_id,
        task_id=task_id,
        map_index=-1,
        try_number=1,
        fileloc=str(dag_file),
    )


def requeue(sessions: sessionmaker[Session], workload: TaskWorkload) -> TaskWorkload:
    """What the scheduler does for a retry: ``queued`` with the next try number."""
    with transaction(sessions, sqlite_begin="IMMEDIATE") as session:
        row = session.get_one(TaskInstanceRow, workload.ti_id)
        row.state = "queued"
        row.try_number += 1
        number = row.try_number
    return TaskWorkload(**{**workload.__dict__, "try_number": number})


def active_children() -> list[int]:
    """Pids of this process's child processes, zombies included (not yet reaped)."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == me:
            found.append(int(entry.name))
    return found


def is_alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
