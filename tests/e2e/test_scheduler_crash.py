"""``kill -9`` of ``tradewind scheduler`` in the middle of a run loses no task and runs
none twice.

A DAG of 20 tasks, each appending ``task_id try`` to a file as its first act (the side
effect) and then sleeping, runs on the LocalExecutor of a scheduler subprocess. Once
some tasks have finished and some are running, the scheduler (only its own process,
as ``kill -9 <pid>`` does) is killed; a new scheduler is started and the run must
succeed. The orphaned workers of the first scheduler finish their tries and exit;
what it had queued but not started is reset by the second one and run there. The
file and the database must agree: each try recorded (current or archived) appears
in the file exactly once, and a task has a second try only if its first one is
recorded as failed.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import load_settings
from tradewind.storage.engine import transaction
from tradewind.storage.tables import DagRow, DagRunRow, TaskInstanceHistoryRow, TaskInstanceRow
from tradewind.storage.wakeup import notify_scheduler

pytestmark = pytest.mark.slow

TASKS = 20
DAG_FILE = """# a tradewind dag
import time
from datetime import datetime
from tradewind import DAG
from tradewind.operators.python import PythonOperator

def work(ti):
    with open({out!r}, "a") as f:
        f.write(f"{{ti.task_id}} {{ti.try_number}}\\n")
    time.sleep(1.5)

with DAG("crash", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    tasks = [
        PythonOperator(task_id=f"t{{i:02d}}", python_callable=work, retries=1)
        for i in range({count})
    ]
    tasks[:-1] >> tasks[-1]
"""


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def session_members(sid: int) -> list[int]:
    """Live processes of session ``sid`` (the scheduler, its workers and their tries)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == sid and not _is_zombie(int(entry)):
                    found.append(int(entry))
            except (ProcessLookupError, PermissionError):
                continue
    return found


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return True


class Schedulers:
    """The scheduler processes of one test, each in its own session; all are killed,
    with everything they started, in :meth:`kill_all`."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"scheduler-{len(self.started)}.log").open("wb")
        command = [sys.executable, "-c", "from tradewind.cli.main import main; main()"]
        process = subprocess.Popen(
            [*command, "scheduler"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.started.append(process)
        return process

    def kill_all(self) -> None:
        for process in self.started:
            for pid in session_members(process.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            process.kill()
            process.wait(timeout=30)


@pytest.fixture
def schedulers(
    db_url: str, fernet_key: str, tmp_path: Path
) -> Iterator[tuple[Schedulers, Path, Path]]:
    home = tmp_path / "home"
    (home / "dags").mkdir(parents=True)
    out = tmp_path / "side_effect.txt"
    (home / "dags" / "crash.py").write_text(DAG_FILE.format(out=str(out), count=TASKS))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env |= {
        "TRADEWIND_HOME": str(home),
        "TRADEWIND__DATABASE__SQL_ALCHEMY_CONN": db_url,
        "TRADEWIND__CORE__FERNET_KEY": fernet_key,
        "TRADEWIND__CORE__EXECUTOR": "LocalExecutor",
        "TRADEWIND__CORE__PARALLELISM": "4",
        "TRADEWIND__CORE__LOAD_EXAMPLES": "False",
        "TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "TRADEWIND__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "2",
        "TRADEWIND__SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD": "15",
        "PYTHONUNBUFFERED": "1",
    }
    running = Schedulers(env, tmp_path)
    try:
        yield running, home, out
    finally:
        running.kill_all()


def _trigger(session_factory: sessionmaker[Session]) -> str:
    now = datetime.now(UTC)
    run_id = f"manual__{now.isoformat()}"
    with transaction(session_factory) as session:
        session.add(
            DagRunRow(
                dag_id="crash", run_id=run_id, run_type="manual", logical_date=now,
                data_interval_start=now, data_interval_end=now, state="queued",
                queued_at=now, external_trigger=True,
            )
        )  # fmt: skip
    return run_id


def _scalar(session_factory: sessionmaker[Session], query: sa.Select[tuple[object]]) -> object:
    with transaction(session_factory) as session:
        return session.scalar(query)


def _lines(out: Path) -> list[tuple[str, int]]:
    if not out.exists():
        return []
    return [
        (task, int(tries))
        for task, tries in (ln.split() for ln in out.read_text().split("\n") if ln)
    ]


def test_a_scheduler_killed_mid_run_loses_no_task_and_runs_none_twice(
    schedulers: tuple[Schedulers, Path, Path],
    engine: Engine,
    session_factory: sessionmaker[Session],
) -> None:
    running, home, out = schedulers
    first = running.start()
    parsed = sa.select(DagRow.dag_id).where(DagRow.dag_id == "crash")
    assert wait_for(lambda: _scalar(session_factory, parsed) is not None, 90), "never parsed"
    run_id = _trigger(session_factory)
    notify_scheduler(load_settings(environ={}, home=home), engine)
    ti = TaskInstanceRow
    done = sa.select(sa.func.count()).where(ti.state == "success")
    busy = sa.select(sa.func.count()).where(ti.state.in_(("queued", "running")))
    assert wait_for(
        lambda: (
            int(_scalar(session_factory, done) or 0) >= 3
            and int(_scalar(session_factory, busy) or 0) >= 2
        ),
        90,
    ), "the run never got going"

    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    second = running.start()

    state = sa.select(DagRunRow.state).where(DagRunRow.run_id == run_id)
    assert wait_for(lambda: _scalar(session_factory, state) == "success", 180), (
        running.log_dir / "scheduler-1.log"
    ).read_text()[-4000:]
    # The first scheduler's orphaned workers finished their tries and exited.
    assert wait_for(lambda: not session_members(first.pid), 30), session_members(first.pid)
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=60) == 0

    with transaction(session_factory) as session:
        current = {
            row.task_id: (row.state, row.try_number)
            for row in session.execute(sa.select(ti.task_id, ti.state, ti.try_number))
        }
        history = session.execute(
            sa.select(
                TaskInstanceHistoryRow.task_id,
                TaskInstanceHistoryRow.try_number,
                TaskInstanceHistoryRow.state,
            )
        ).all()
    assert len(current) == TASKS
    assert {state for state, _ in current.values()} == {"success"}
    archived = {(task, tries): state for task, tries, state in history}
    assert set(archived.values()) <= {"failed"}, archived
    recorded = {(task, tries) for task, (_, tries) in current.items()} | set(archived)
    executed = collections.Counter(_lines(out))
    assert all(count == 1 for count in executed.values()), executed  # no try ran twice
    assert set(executed) == recorded  # every recorded try ran, every run try is recorded
