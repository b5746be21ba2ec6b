"""``tradewind standalone`` as a user runs it: a real process tree on a temporary home.

Each test starts the console entry point in a subprocess with its own ``TRADEWIND_HOME``
and SQLite file, reads its output line by line, and in ``finally`` kills whatever is
left (the standalone's own process group and every component group it reported), so a
failing assertion leaves no processes behind.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tradewind.security.passwords import verify_password
from tradewind.standalone.supervisor import group_members

pytestmark = pytest.mark.slow

#: Seconds the scheduler may take to heartbeat after the standalone starts.
READY_TIMEOUT = 90.0
STARTED = re.compile(r"started (\w[\w-]*) \(pid (\d+)\)")


class Standalone:
    """One ``tradewind standalone`` process and the lines it printed so far."""

    def __init__(self, home: Path, port: int) -> None:
        self.port = port
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
        env |= {
            "TRADEWIND_HOME": str(home),
            "TRADEWIND__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'tradewind.db'}",
            "TRADEWIND__CORE__LOAD_EXAMPLES": "False",
            "TRADEWIND__WEBSERVER__WEB_SERVER_PORT": str(port),
            "TRADEWIND__WEBSERVER__WEB_SERVER_HOST": "127.0.0.1",
            "NO_COLOR": "1",
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from tradewind.cli.main import main; main()", "standalone"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=home,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """The first line (from the start) matching ``pattern``; fails after ``timeout``."""
        regex = re.compile(pattern)
        for line in self.lines:
            if found := regex.search(line):
                return found
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if found := regex.search(line):
                return found
        raise AssertionError(f"no line matched {pattern!r}; output:\n" + self.output())

    def drain(self) -> None:
        """Collect lines until the output ends (the process and its children are gone)."""
        self._reader.join(timeout=10)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return
            if line is not None:
                self.lines.append(line)

    def output(self) -> str:
        return "\n".join(self.lines)

    def component_pids(self) -> list[int]:
        return [int(m.group(2)) for line in self.lines if (m := STARTED.search(line))]

    def stop(self, signum: int = signal.SIGINT, timeout: float = 10.0) -> tuple[int, float]:
        """Send ``signum``; return the exit code and the seconds it took to exit."""
        began = time.monotonic()
        self.process.send_signal(signum)
        code = self.process.wait(timeout=timeout)
        elapsed = time.monotonic() - began
        self.drain()
        return code, elapsed

    def kill_everything(self) -> None:
        for pgid in [self.process.pid, *self.component_pids()]:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.process.wait(timeout=10)
        finally:
            self._reader.join(timeout=5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def alive(pid: int) -> bool:
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat_line[stat_line.rindex(")") + 2] not in "ZX"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "dags").mkdir()
    return tmp_path


@pytest.fixture
def start(home: Path) -> Iterator[Callable[[], Standalone]]:
    """Start ``tradewind standalone`` on ``home``; everything started is killed at the end."""
    started: list[Standalone] = []

    def start_one() -> Standalone:
        started.append(Standalone(home, free_port()))
        return started[-1]

    try:
        yield start_one
    finally:
        for standalone in started:
            standalone.kill_everything()


def test_standalone_runs_supervises_and_stops(home: Path, start: Callable[[], Standalone]) -> None:
    standalone = start()

    password = standalone.wait_for(r"Login with username: admin  password: (\S+)").group(1)
    password_file = home / "standalone_admin_password.txt"
    assert password_file.read_text().strip() == password
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    standalone.wait_for(r"Set \[api\] auth_backends = tradewind\.api\.auth\.basic_auth")
    assert "auth_backends = tradewind.api.auth.basic_auth" in (home / "tradewind.cfg").read_text()

    first = int(standalone.wait_for(r"started scheduler \(pid (\d+)\)").group(1))
    standalone.wait_for(r"started api-server \(pid \d+\)")
    standalone.wait_for(
        rf"Tradewind is ready: API at http://127\.0\.0\.1:{standalone.port}/api/v1\. "
        rf"Put DAG files in {home / 'dags'}",
        READY_TIMEOUT,
    )
    health = json.loads(
        urllib.request.urlopen(f"http://127.0.0.1:{standalone.port}/api/v1/health").read()
    )
    assert health["scheduler"]["status"] == "healthy"
    request = urllib.request.Request(f"http://127.0.0.1:{standalone.port}/api/v1/pools")
    token = base64.b64encode(f"admin:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    pools = json.loads(urllib.request.urlopen(request).read())
    assert [pool["name"] for pool in pools["pools"]] == ["default_pool"]

    engine = sa.create_engine(f"sqlite:///{home / 'tradewind.db'}")
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                sa.text('SELECT password_hash FROM "user" WHERE username = :u'), {"u": "admin"}
            ).scalar_one()
    finally:
        engine.dispose()
    assert stored.startswith("$argon2id$") and password not in stored
    assert verify_password(password, stored)

    os.kill(first, signal.SIGKILL)
    standalone.wait_for(rf"scheduler \(pid {first}\) exited with signal SIGKILL")
    second = int(standalone.wait_for(rf"started scheduler \(pid (?!{first}\))(\d+)\)").group(1))
    assert second != first and alive(second)

    tree = {pid for pgid in standalone.component_pids() for pid in group_members(pgid)}
    tree |= set(standalone.component_pids()) | {standalone.process.pid}
    code, elapsed = standalone.stop(signal.SIGINT)

    assert code == 0, standalone.output()
    assert elapsed < 10
    assert [pid for pid in tree if alive(pid)] == []
    assert "Tradewind standalone stopped." in standalone.output()


def test_a_second_start_keeps_the_password_and_sigterm_stops_it(
    home: Path, start: Callable[[], Standalone]
) -> None:
    first = start()
    password = first.wait_for(r"Login with username: admin  password: (\S+)").group(1)
    first.wait_for(r"started scheduler")
    assert first.stop(signal.SIGTERM)[0] == 0, first.output()
    config = (home / "tradewind.cfg").read_text()

    again = start()
    again.wait_for(r"The admin password is in .*standalone_admin_password\.txt")
    again.wait_for(r"started scheduler")
    code, elapsed = again.stop(signal.SIGTERM)

    assert code == 0 and elapsed < 10, again.output()
    assert "Login with username" not in again.output()
    assert "Set [api] auth_backends" not in again.output()
    assert (home / "standalone_admin_password.txt").read_text().strip() == password
    assert (home / "tradewind.cfg").read_text() == config
    assert not any(alive(pid) for pid in [*first.component_pids(), *again.component_pids()])
