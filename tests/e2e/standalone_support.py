"""``tradewind standalone`` as a test drives it: one real process tree on a temporary home.

:class:`Standalone` starts the console entry point in a subprocess with its own
``TRADEWIND_HOME``, SQLite file and API port, reads its output line by line, and can
kill whatever is left (its own process group and every component group it reported).
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

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
