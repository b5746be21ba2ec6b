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
import signal
import stat
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from standalone_support import READY_TIMEOUT, Standalone, alive, free_port

from tradewind.security.passwords import verify_password
from tradewind.standalone.supervisor import group_members

pytestmark = pytest.mark.slow


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
