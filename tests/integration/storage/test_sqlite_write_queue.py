"""SQLite's write lock, queued in the kernel between the processes that opt in.

Each scenario runs real processes (the queue is per process and uses SIGALRM, so the
test's own process never opts in): a holder that takes the write lock and keeps it,
and a writer that queues behind it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tradewind.config import DatabaseSettings
from tradewind.storage.engine import create_engine_from_settings

pytestmark = pytest.mark.usefixtures("database_file")

SCRIPT = """
import sys, time
import sqlalchemy as sa
from tradewind.config import DatabaseSettings
from tradewind.storage import sqlite_write_queue
from tradewind.storage.engine import create_engine_from_settings, session_factory, transaction

url, timeout, hold, queue = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
if queue == "queue":
    sqlite_write_queue.enable()
engine = create_engine_from_settings(
    DatabaseSettings(sql_alchemy_conn=url, sqlite_busy_timeout=timeout)
)
started = time.monotonic()
try:
    with transaction(session_factory(engine), sqlite_begin="IMMEDIATE") as session:
        print("writing", flush=True)
        session.execute(sa.text("INSERT INTO marks VALUES (:who)"), {{"who": sys.argv[5]}})
        time.sleep(hold)
except Exception as exc:
    print(f"failed after {{time.monotonic() - started:.1f}} s: {{exc}}", flush=True)
    sys.exit(3)
print("done", flush=True)
"""


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    path = tmp_path / "queue.db"
    engine = create_engine_from_settings(DatabaseSettings(sql_alchemy_conn=f"sqlite:///{path}"))
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE marks (who TEXT)"))
    engine.dispose()
    return path


def writer(
    path: Path, who: str, *, hold: float = 0.0, timeout: float = 10.0, queue: bool = True
) -> subprocess.Popen[str]:
    """A process that writes one row in a transaction it keeps for ``hold`` seconds."""
    code = textwrap.dedent(SCRIPT.format())  # {{ }} in SCRIPT are literal braces
    args = [f"sqlite:///{path}", str(timeout), str(hold), "queue" if queue else "poll", who]
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Wait for ``process``; its exit code and what it printed."""
    out, _ = process.communicate(timeout=20)
    return process.returncode, out


def started_writing(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "writing"


def marks(path: Path) -> list[str]:
    engine = create_engine_from_settings(DatabaseSettings(sql_alchemy_conn=f"sqlite:///{path}"))
    with engine.connect() as connection:
        found = [row[0] for row in connection.execute(sa.text("SELECT who FROM marks"))]
    engine.dispose()
    return found


def test_a_queued_writer_waits_its_turn_and_writes(database_file: Path) -> None:
    holder = writer(database_file, "holder", hold=1.0)
    started_writing(holder)
    queued = writer(database_file, "queued")
    assert finish(holder)[0] == 0
    assert finish(queued) == (0, "writing\ndone\n")
    assert marks(database_file) == ["holder", "queued"]
    assert (database_file.parent / "queue.db.tradewind-lock").exists()


def test_a_writer_that_does_not_queue_still_gets_the_lock(database_file: Path) -> None:
    """The queue orders only the processes that opt in; SQLite's lock still decides."""
    holder = writer(database_file, "queued holder", hold=0.5)
    started_writing(holder)
    polling = writer(database_file, "polling", queue=False)
    assert finish(polling)[0] == 0 and finish(holder)[0] == 0
    assert sorted(marks(database_file)) == ["polling", "queued holder"]


def test_the_wait_gives_up_after_the_busy_timeout_and_leaves_the_queue(
    database_file: Path,
) -> None:
    holder = writer(database_file, "holder", hold=3.0)
    started_writing(holder)
    began = time.monotonic()
    impatient = writer(database_file, "impatient", timeout=0.5)
    code, out = finish(impatient)
    assert code == 3
    assert "database is locked" in out
    assert time.monotonic() - began < 2.5  # it did not wait for the holder
    assert finish(holder)[0] == 0
    later = writer(database_file, "later", timeout=5)
    assert finish(later)[0] == 0
    assert marks(database_file) == ["holder", "later"]


def test_a_holder_that_dies_lets_the_next_writer_in(database_file: Path) -> None:
    holder = writer(database_file, "doomed", hold=60)
    started_writing(holder)
    queued = writer(database_file, "survivor")
    time.sleep(0.3)  # it is waiting in the queue now
    holder.send_signal(signal.SIGKILL)
    finish(holder)
    assert finish(queued)[0] == 0
    assert marks(database_file) == ["survivor"]  # the dead holder's row was never committed
