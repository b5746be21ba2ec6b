"""Run a group of long-lived child processes, restart the ones that die, stop them all.

``tradewind standalone`` is one :class:`Supervisor` over a table of components (see
``components.py``). Each component runs as a child process in its own session and
process group, so whatever it starts (executor workers, DAG parsing children) can be
stopped with it: one signal to the group reaches them all, and none is left behind.

- Output: the child's stdout and stderr are merged and every line is written to one
  stream, prefixed with the component's name (``scheduler | ...``), in colour on a
  terminal. One thread per child reads its pipe, so a chatty child never blocks.
- Restarts: a child that exits (for whatever reason, even code 0: components are meant
  to run until told to stop) is restarted after a delay from :class:`Backoff`: 1 s,
  doubling to 30 s, back to 1 s once a child has run for 60 s. Before the restart, what
  remains of its process group is killed, so a dead scheduler's orphaned workers do not
  keep running tasks nobody will reap.
- Stop: :meth:`Supervisor.stop` only sets a flag, so it is safe to call from a signal
  handler or another thread. :meth:`Supervisor.run` then sends SIGTERM to every group,
  waits up to ``stop_timeout`` seconds for the groups to empty and SIGKILLs the rest.

The supervisor knows nothing about Tradewind: components are argv lists, which keeps it
testable with ``python -c`` stand-ins.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TextIO

#: The supervisor's own lines carry this name in their prefix.
SUPERVISOR_NAME = "standalone"
_COLOURS = ("36", "35", "32", "33", "34", "31")  # cyan, magenta, green, yellow, blue, red
_RESET = "\033[0m"


@dataclass(frozen=True)
class Component:
    """One long-running process of the group: a name for its output and how to start it."""

    name: str
    argv: tuple[str, ...]


@dataclass(frozen=True)
class Backoff:
    """How long to wait before restarting a component that died.

    Attributes:
        initial: seconds before the first restart after a crash.
        maximum: ceiling of the doubling delay, in seconds.
        reset_after: seconds of uptime after which a crash counts as the first again.
    """

    initial: float = 1.0
    maximum: float = 30.0
    reset_after: float = 60.0

    def delay(self, failures: int) -> float:
        """Seconds before restart number ``failures`` in a row (1 for the first)."""
        return float(min(self.initial * 2 ** max(failures - 1, 0), self.maximum))

    def failures_after(self, previous: int, uptime: float) -> int:
        """The crash count after a child that ran ``uptime`` seconds died."""
        return 1 if uptime >= self.reset_after else previous + 1


@dataclass
class _Child:
    """Mutable state of one component: its current process and restart bookkeeping."""

    component: Component
    colour: str
    process: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = None
    started_at: float = 0.0
    failures: int = 0
    #: Monotonic time of the next start; None while the process runs.
    start_at: float | None = 0.0
    pids: list[int] = field(default_factory=list)


class Supervisor:
    """Keeps every component running until :meth:`stop`; see the module docstring."""

    def __init__(
        self,
        components: Sequence[Component],
        *,
        output: TextIO,
        backoff: Backoff | None = None,
        stop_timeout: float = 5.0,
        env: Mapping[str, str] | None = None,
        colour: bool | None = None,
        poll_interval: float = 0.1,
    ) -> None:
        names = [component.name for component in components]
        if len(set(names)) != len(names):
            raise ValueError(f"component names must be unique, got {names}")
        self._children = [
            _Child(component, _COLOURS[i % len(_COLOURS)]) for i, component in enumerate(components)
        ]
        self._output = output
        self._backoff = backoff or Backoff()
        self._stop_timeout = stop_timeout
        self._env = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"}
        self._colour = _wants_colour(output) if colour is None else colour
        self._poll_interval = poll_interval
        self._width = max([len(SUPERVISOR_NAME), *map(len, names)])
        self._write_lock = threading.Lock()
        # A plain flag, not a threading.Event: Event.set() from a signal handler can
        # deadlock on the lock the interrupted Event.wait() holds.
        self._stop_requested = False

    def run(self) -> None:
        """Start every component and restart any that dies, until :meth:`stop` is called.

        Returns once every process group is empty (after at most ``stop_timeout``
        seconds plus the time SIGKILL takes).
        """
        try:
            while not self._stop_requested:
                now = time.monotonic()
                for child in self._children:
                    self._check(child, now)
                time.sleep(self._poll_interval)
        finally:
            self._stop_all()

    def stop(self) -> None:
        """Ask :meth:`run` to stop every component and return. Safe in a signal handler."""
        self._stop_requested = True

    def say(self, text: str) -> None:
        """Write a line of the supervisor's own, prefixed like the children's lines."""
        for line in text.splitlines() or [""]:
            self._write(SUPERVISOR_NAME, "1", line)

    def pid(self, name: str) -> int | None:
        """The pid of the running process of component ``name``, or None between restarts."""
        process = self._child(name).process
        return process.pid if process is not None and process.poll() is None else None

    def pid_history(self, name: str) -> list[int]:
        """Every pid component ``name`` has had, oldest first."""
        return list(self._child(name).pids)

    def _child(self, name: str) -> _Child:
        for child in self._children:
            if child.component.name == name:
                return child
        raise KeyError(name)

    def _check(self, child: _Child, now: float) -> None:
        if child.process is not None:
            code = child.process.poll()
            if code is None:
                return
            self._on_exit(child, code, now)
        if child.start_at is not None and now >= child.start_at and not self._stop_requested:
            self._start(child, now)

    def _start(self, child: _Child, now: float) -> None:
        name = child.component.name
        try:
            process = subprocess.Popen(
                child.component.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self._env,
                start_new_session=True,
            )
        except OSError as exc:
            child.failures += 1
            delay = self._backoff.delay(child.failures)
            child.start_at = now + delay
            self.say(f"{name} could not start ({exc}); retrying in {delay:g} s")
            return
        child.process, child.started_at, child.start_at = process, now, None
        child.pids.append(process.pid)
        assert process.stdout is not None
        child.reader = threading.Thread(
            target=self._pump,
            args=(name, child.colour, process.stdout),
            name=f"standalone-{name}-output",
            daemon=True,
        )
        child.reader.start()
        self.say(f"started {name} (pid {process.pid})")

    def _on_exit(self, child: _Child, code: int, now: float) -> None:
        assert child.process is not None
        pid = child.process.pid
        uptime = now - child.started_at
        # The leader is gone; its workers would run on unsupervised.
        _signal_group(pid, signal.SIGKILL)
        child.process = None
        child.failures = self._backoff.failures_after(child.failures, uptime)
        delay = self._backoff.delay(child.failures)
        child.start_at = now + delay
        self.say(
            f"{child.component.name} (pid {pid}) exited with {_describe(code)} after "
            f"{uptime:.1f} s; restarting in {delay:g} s"
        )

    def _stop_all(self) -> None:
        running = [child for child in self._children if child.process is not None]
        for child in running:
            assert child.process is not None
            self.say(f"stopping {child.component.name} (pid {child.process.pid})")
            _signal_group(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self._stop_timeout
        while time.monotonic() < deadline and any(_group_alive(c.process) for c in running):
            time.sleep(0.05)
        for child in running:
            assert child.process is not None
            if _group_alive(child.process):
                self.say(
                    f"{child.component.name} did not stop within {self._stop_timeout:g} s; "
                    "killing it"
                )
                _signal_group(child.process.pid, signal.SIGKILL)
            child.process.wait()
            code = child.process.returncode
            self.say(
                f"{child.component.name} (pid {child.process.pid}) exited with {_describe(code)}"
            )
        for child in self._children:
            if child.reader is not None:
                child.reader.join(timeout=1.0)

    def _pump(self, name: str, colour: str, stream: IO[bytes]) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                self._write(name, colour, raw.decode("utf-8", "replace").rstrip("\r\n"))

    def _write(self, name: str, colour: str, line: str) -> None:
        prefix = f"{name:<{self._width}} |"
        if self._colour:
            prefix = f"\033[{colour}m{prefix}{_RESET}"
        with self._write_lock:
            try:
                self._output.write(f"{prefix} {line}\n")
                self._output.flush()
            except (OSError, ValueError):
                pass  # stdout closed (a pipe to `head`): keep supervising regardless


def _wants_colour(output: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return output.isatty()
    except (AttributeError, ValueError):
        return False


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # the group is empty already


def _group_alive(process: subprocess.Popen[bytes] | None) -> bool:
    """Whether the process or any live member of its process group remains."""
    if process is None:
        return False
    if process.poll() is None:
        return True
    return bool(group_members(process.pid))


def group_members(pgid: int) -> list[int]:
    """Pids of the live (not zombie) processes in process group ``pgid``.

    Reads ``/proc`` on Linux, where an orphaned zombie awaiting its reaper must not count
    as alive; elsewhere asks ``killpg(pgid, 0)`` and reports ``[pgid]`` if any member exists.
    """
    proc = Path("/proc")
    if not sys.platform.startswith("linux") or not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members
