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


def _start_scheduler(
    home: Path, db_url: str, fernet_key: str, settings: dict[str, str]
) -> subprocess.Popen[str]:
    """``tradewind scheduler`` (SequentialExecutor) on ``home`` with DAG_FILE in its
    DAGs folder; ``settings``: more ``TRADEWIND__SECTION__KEY`` variables."""
    (home / "dags").mkdir(parents=True)
    (home / "dags" / "from_cli.py").write_text(DAG_FILE)
    env = {
        **os.environ,
        "TRADEWIND_HOME": str(home),
        "TRADEWIND__DATABASE__SQL_ALCHEMY_CONN": db_url,
        "TRADEWIND__CORE__FERNET_KEY": fernet_key,
        "TRADEWIND__CORE__EXECUTOR": "SequentialExecutor",
        "TRADEWIND__CORE__LOAD_EXAMPLES": "False",
    }
    env.update(settings)
    command = [sys.executable, "-c", "from tradewind.cli.main import main; main()", "scheduler"]
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)


def test_the_scheduler_command_runs_a_triggered_run_and_stops_on_sigterm(
    db_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    fernet_key: str,
) -> None:
    home = tmp_path / "home"
    process = _start_scheduler(
        home,
        db_url,
        fernet_key,
        {
            "TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "TRADEWIND__SCHEDULER__SWEEP_INTERVAL": "60",
        },
    )
    try:
        parsed = wait_for(lambda: _stored(session_factory, "from_cli"), timeout=60)
        assert parsed, "DAG never parsed"
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


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


def _stored(session_factory: sessionmaker[Session], dag_id: str) -> bool:
    with transaction(session_factory) as session:
        return session.get(DagRow, dag_id) is not None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_dag_processor_runs_beside_a_single_threaded_scheduler_and_is_restarted(
    db_url: str,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    fernet_key: str,
) -> None:
    # One thread: the scheduler forks workers and callback runners, and a fork taken
    # while another thread held a lock (SQLite's) left a worker hung forever.
    home = tmp_path / "home"
    process = _start_scheduler(
        home, db_url, fernet_key, {"TRADEWIND__SCHEDULER__DAG_DIR_LIST_INTERVAL": "1"}
    )
    try:
        assert wait_for(lambda: _stored(session_factory, "from_cli"), timeout=60)
        assert len(os.listdir(f"/proc/{process.pid}/task")) == 1
        (processor,) = _children(process.pid)
        os.kill(processor, signal.SIGKILL)
        (home / "dags" / "second.py").write_text(DAG_FILE.replace('"from_cli"', '"second"'))
        assert wait_for(lambda: _stored(session_factory, "second"), timeout=60)
        (restarted,) = _children(process.pid)
        assert restarted != processor
        assert len(os.listdir(f"/proc/{process.pid}/task")) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "The DAG processor exited (code -9); starting it again" in stderr
    assert not os.path.exists(f"/proc/{restarted}"), "the DAG processor outlived the scheduler"
