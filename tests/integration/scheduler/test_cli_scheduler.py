"""``tradewind scheduler`` as a process: parses the DAGs folder, runs a triggered run
woken by ``notify_scheduler``, and stops cleanly on SIGTERM.

(The LocalExecutor, kill -9 and ``standalone`` end-to-end tests live elsewhere.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from scheduler_support import run_state, trigger, wait_for
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import load_settings
from tradewind.storage.engine import transaction
from tradewind.storage.tables import DagRow, JobRow
from tradewind.storage.wakeup import notify_scheduler

pytestmark = pytest.mark.db

DAG_FILE = """# a tradewind dag
from datetime import datetime
from tradewind import DAG
from tradewind.operators.python import PythonOperator

with DAG("from_cli", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    PythonOperator(task_id="a", python_callable=lambda: None) >> PythonOperator(
        task_id="b", python_callable=lambda: None
    )
"""


def _dag_stored(session_factory: sessionmaker[Session]) -> bool:
    with transaction(session_factory) as session:
        return session.get(DagRow, "from_cli") is not None


def test_the_scheduler_command_runs_a_triggered_run_and_stops_on_sigterm(
    db_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    fernet_key: str,
) -> None:
    home = tmp_path / "home"
    (home / "dags").mkdir(parents=True)
    (home / "dags" / "from_cli.py").write_text(DAG_FILE)
    env = {
        **os.environ,
        "TRADEWIND_HOME": str(home),
        "TRADEWIND__DATABASE__SQL_ALCHEMY_CONN": db_url,
        "TRADEWIND__CORE__FERNET_KEY": fernet_key,
        "TRADEWIND__CORE__EXECUTOR": "SequentialExecutor",
        "TRADEWIND__CORE__LOAD_EXAMPLES": "False",
        "TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "TRADEWIND__SCHEDULER__SWEEP_INTERVAL": "60",
    }
    command = [sys.executable, "-c", "from tradewind.cli.main import main; main()", "scheduler"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: _dag_stored(session_factory), timeout=60), "DAG never parsed"
        run_id = trigger(session_factory, "from_cli", now=datetime.now(UTC))
        notify_scheduler(load_settings(environ={}, home=home), engine)
        assert wait_for(lambda: run_state(session_factory, "from_cli", run_id) == "success")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "Scheduler stopped." in stderr
    with transaction(session_factory) as session:
        assert session.execute(sa.select(JobRow.job_type, JobRow.state)).one() == (
            "SchedulerJob",
            "success",
        )
