"""A queue for SQLite's write lock, for Tradewind's own busy single-threaded writers.

SQLite has no queue for its write lock: a writer that finds it taken can only try
again later. :func:`~tradewind.storage.engine._begin_writing` polls from 0.1 ms,
doubling to 2 ms; with 32 workers and a scheduler writing at once, that was ~28 failed
attempts and sleeps per transaction, ~1.3 ms of CPU per task try spent waiting, and
whoever happened to poll at the right moment went first.

Processes that opt in (:func:`enable`: the scheduler and ``LocalExecutor``'s workers)
queue in the kernel instead: before ``BEGIN IMMEDIATE`` they take an exclusive
``flock`` on a file beside the database (``<database>.tradewind-lock``) and release it
once the transaction ends (:class:`QueuedConnection`'s ``commit``/``rollback``/``close``);
a waiter sleeps in ``flock`` until the holder lets go. The ``flock`` only orders these
processes among themselves: SQLite's own lock still decides, so a process that does
not queue (the API server, the CLI) is never shut out, merely not queued.

The wait is bounded by the busy timeout like any other (``SIGALRM`` interrupts it,
which is why only processes whose main thread does the database work, and that use
``SIGALRM`` for nothing else, opt in; other threads and processes poll as before). A
holder that dies releases the lock with its last file descriptor.
"""

from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
import threading
from types import FrameType
from typing import Any

#: The pid of the process that opted in: a process it forks is not opted in with it.
_enabled_pid = -1
#: This process's open lock files by path, and how many of its transactions hold each;
#: keyed by pid, so that a forked child opens its own (a lock belongs to the open file,
#: which a child would share with its parent).
_files: dict[str, int] = {}
_holders: dict[str, int] = {}
_owner_pid = -1


def enable() -> None:
    """Queue this process's write transactions (call from its main thread).

    Only for a process whose database work is all in its main thread and that uses
    ``SIGALRM`` for nothing else: the scheduler loop, a ``LocalExecutor`` worker. Not
    inherited by processes it forks later (they may run user code that sets alarms).
    """
    global _enabled_pid
    _enabled_pid = os.getpid()


def queues_here() -> bool:
    """Whether a write transaction begun now, in this thread, queues."""
    return _enabled_pid == os.getpid() and threading.current_thread() is threading.main_thread()


class QueuedConnection(sqlite3.Connection):
    """A ``sqlite3`` connection that releases its place in the queue when its
    transaction ends."""

    queued_path: str | None = None

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._leave()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave()

    def _leave(self) -> None:
        if self.queued_path is not None:
            path, self.queued_path = self.queued_path, None
            release(path)


def wait_turn(connection: QueuedConnection, path: str, timeout: float) -> None:
    """Wait (at most ``timeout`` seconds) for the queue of ``path``, for ``connection``'s
    next transaction; it leaves the queue when that transaction ends.

    Raises:
        sqlite3.OperationalError: "database is locked" after ``timeout`` seconds, as
            SQLite's busy timeout would.
    """
    fd = _file(path)
    if _holders.get(path, 0) == 0:
        _lock(fd, timeout)
    _holders[path] = _holders.get(path, 0) + 1
    connection.queued_path = path


def release(path: str) -> None:
    """One transaction of this process on ``path`` ended."""
    if os.getpid() != _owner_pid or _holders.get(path, 0) == 0:
        return  # a forked child's inherited connection: its parent's place, not ours
    _holders[path] -= 1
    if _holders[path] == 0:
        fcntl.flock(_files[path], fcntl.LOCK_UN)


class _Timeout(Exception):
    pass


def _lock(fd: int, timeout: float) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    waiting = True

    def give_up(signum: int, frame: FrameType | None) -> Any:
        if waiting:
            raise _Timeout

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.setitimer(signal.ITIMER_REAL, max(timeout, 0.001))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        waiting = False
    except _Timeout:
        # The alarm may have come just after the lock was taken: let go either way.
        fcntl.flock(fd, fcntl.LOCK_UN)
        raise sqlite3.OperationalError("database is locked") from None
    finally:
        waiting = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)


def _file(path: str) -> int:
    global _owner_pid
    if os.getpid() != _owner_pid:  # a fresh process, or a fork: nothing is ours yet
        for inherited in _files.values():  # the parent's place stays the parent's
            os.close(inherited)
        _files.clear()
        _holders.clear()
        _owner_pid = os.getpid()
    fd = _files.get(path)
    if fd is None:
        fd = _files[path] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    return fd
