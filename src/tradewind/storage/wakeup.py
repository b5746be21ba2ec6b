"""Waking a scheduler at once when something it must act on was committed.

The scheduler is event-driven (DESIGN.md, "Latency by design"): it sleeps in ``select``
until a wake-up, an executor event or its safety-net sweep (``[scheduler]
sweep_interval``). Whoever commits work for it (a triggered run, an unpause, a clear)
calls :func:`notify_scheduler` *after* committing; the scheduler's
:class:`SchedulerWakeup` makes its ``select`` return.

Why this design:

- **Local Unix datagram sockets, one per scheduler**: ``$TRADEWIND_HOME/run/
  scheduler-<pid>-<n>.sock``. They work on every backend (SQLite has no NOTIFY), cost
  one ``sendto`` (microseconds, no database round trip) and need no broker. One socket
  per scheduler rather than one shared path, because only one process can bind a path:
  with several schedulers on one host (HA on PostgreSQL, tests) each binds its own and
  the notifier sends to every ``scheduler-*.sock`` it finds. A datagram is a level, not
  a message: losing one (a full buffer) is harmless because the receiver is already
  awake; a stale socket (its scheduler died) refuses the datagram and is removed when
  its pid is gone. When the home folder's path is too long for ``AF_UNIX`` (108 bytes),
  the sockets live in a short folder of the temp directory derived from the home path,
  so notifier and scheduler still agree on it.
- **PostgreSQL ``LISTEN/NOTIFY``** on channel :data:`CHANNEL`, in addition: schedulers
  on *other* hosts wake too. The listener holds one dedicated autocommit connection
  whose socket joins the scheduler's ``select`` (see :meth:`SchedulerWakeup.filenos`);
  if it breaks, it is reopened at most every few seconds and the scheduler is woken,
  since a notification may have been lost meanwhile.
- **In-process** callers (``standalone``, tests, signal handlers) call
  :meth:`SchedulerWakeup.wake` directly.

Everything here is best effort: a wake-up that is lost costs at most one sweep interval,
never correctness, so :func:`notify_scheduler` never raises.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tradewind.config import Settings

logger = logging.getLogger(__name__)

#: The PostgreSQL ``NOTIFY`` channel schedulers listen on.
CHANNEL = "tradewind_scheduler"
#: Seconds between attempts to reopen a broken ``LISTEN`` connection.
RELISTEN_INTERVAL = 5.0
_SOCKET_GLOB = "scheduler-*.sock"
_MAX_UNIX_PATH = 100  # AF_UNIX allows 107 bytes on Linux, 103 on macOS; keep a margin
_counter = itertools.count()


def socket_dir(settings: Settings) -> Path:
    """The folder holding the schedulers' wake-up sockets for this home folder."""
    preferred = Path(settings.home) / "run"
    if len(str(preferred / "scheduler-4194304-999.sock")) <= _MAX_UNIX_PATH:
        return preferred
    digest = hashlib.sha256(str(Path(settings.home).absolute()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"tradewind-{digest}"


def notify_scheduler(settings: Settings, engine: Engine | None = None) -> None:
    """Wake every scheduler of this deployment; never raises.

    Call it after committing a change a scheduler must act on. Sends one datagram to
    each local scheduler socket and, when ``engine`` is PostgreSQL, a ``NOTIFY`` (one
    round trip) for schedulers on other hosts.
    """
    try:
        _notify_local(socket_dir(settings))
    except Exception:  # best effort by contract
        logger.debug("Local scheduler wake-up failed", exc_info=True)
    if engine is not None and engine.dialect.name == "postgresql":
        try:
            with engine.connect() as connection:
                connection.execute(sa.select(sa.func.pg_notify(CHANNEL, "")))
                connection.commit()
        except Exception:
            logger.debug("NOTIFY %s failed", CHANNEL, exc_info=True)


def _notify_local(folder: Path) -> None:
    if not folder.is_dir():
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.setblocking(False)
        for path in folder.glob(_SOCKET_GLOB):
            try:
                sender.sendto(b"w", str(path))
            except BlockingIOError:
                pass  # its buffer is full: that scheduler is awake already
            except (ConnectionRefusedError, FileNotFoundError):
                _remove_if_stale(path)
            except OSError:
                logger.debug("Cannot wake scheduler at %s", path, exc_info=True)


def _remove_if_stale(path: Path) -> None:
    """Unlink a socket nobody is bound to, once its owner's pid is gone."""
    try:
        pid = int(path.name.split("-")[1])
        os.kill(pid, 0)
    except ProcessLookupError:
        with contextlib.suppress(OSError):
            path.unlink()
    except (ValueError, IndexError, PermissionError, OSError):
        pass


class SchedulerWakeup:
    """What a scheduler selects on to be woken.

    Args:
        settings: supplies the home folder (where the local socket lives).
        engine: the metadata database; on PostgreSQL a ``LISTEN`` connection is opened
            from it. None (or SQLite) listens locally only.

    Use :meth:`filenos` in ``select``, then :meth:`drain` to consume what woke it;
    :meth:`close` removes the socket and closes the listener.
    """

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self._engine = (
            engine if engine is not None and engine.dialect.name == "postgresql" else None
        )
        self._path: Path | None = None
        self._reader, self._writer = self._open_local(socket_dir(settings))
        self._listener: Any = None  # psycopg connection, when listening
        self._next_listen = 0.0
        if self._engine is not None:
            self._listen()

    def _open_local(self, folder: Path) -> tuple[socket.socket, socket.socket | None]:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        path = folder / f"scheduler-{os.getpid()}-{next(_counter)}.sock"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            sock.bind(str(path))
        except OSError:
            # No usable folder: stay wakeable in-process (and through NOTIFY).
            logger.warning("Cannot bind scheduler wake-up socket %s", path, exc_info=True)
            sock.close()
            reader, writer = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
            reader.setblocking(False)
            writer.setblocking(False)
            return reader, writer
        sock.setblocking(False)
        self._path = path
        return sock, None

    @property
    def path(self) -> Path | None:
        """The local socket's path, or None when only in-process wake-ups work."""
        return self._path

    @property
    def listening(self) -> bool:
        """Whether a PostgreSQL ``LISTEN`` connection is open."""
        return self._listener is not None

    def fileno(self) -> int:
        """The local socket: readable after :meth:`wake` or a local notification."""
        return self._reader.fileno()

    def filenos(self) -> list[int]:
        """Every descriptor to select on: the local socket and the ``LISTEN`` connection."""
        fds = [self._reader.fileno()]
        if self._listener is not None:
            with contextlib.suppress(Exception):
                fds.append(int(self._listener.fileno()))
        return fds

    def wake(self) -> None:
        """Make the next (or current) ``select`` return at once; safe from any thread
        and from a signal handler."""
        try:
            if self._writer is not None:
                self._writer.send(b"w")
            else:
                self._reader.sendto(b"w", str(self._path))
        except OSError:
            pass  # a full buffer already wakes the reader

    def drain(self) -> int:
        """Consume pending wake-ups without blocking; return how many there were.

        Also reopens a broken ``LISTEN`` connection when due; a reopened listener counts
        as one wake-up, since notifications may have been missed while it was down.
        """
        count = 0
        while True:
            try:
                self._reader.recv(64)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            count += 1
        if self._engine is None:
            return count
        if self._listener is None:
            if time.monotonic() >= self._next_listen and self._listen():
                count += 1
            return count
        try:
            pgconn = self._listener.pgconn
            pgconn.consume_input()
            while pgconn.notifies() is not None:
                count += 1
        except Exception:
            logger.warning("Scheduler LISTEN connection lost; reopening it later")
            self._close_listener()
            self._next_listen = time.monotonic() + RELISTEN_INTERVAL
            count += 1
        return count

    def _listen(self) -> bool:
        assert self._engine is not None
        connection: Any = None
        try:
            pooled = self._engine.raw_connection()
            connection = pooled.driver_connection
            pooled.detach()  # ours for good: the pool must never hand it to anyone else
            connection.autocommit = True
            connection.execute(f"LISTEN {CHANNEL}")
        except Exception:
            logger.warning("Cannot LISTEN on %s; retrying later", CHANNEL, exc_info=True)
            if connection is not None:
                with contextlib.suppress(Exception):
                    connection.close()
            self._next_listen = time.monotonic() + RELISTEN_INTERVAL
            return False
        self._listener = connection
        return True

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):
                listener.close()

    def close(self) -> None:
        """Remove the socket and close the listener; idempotent."""
        self._close_listener()
        for sock in (self._reader, self._writer):
            if sock is not None:
                sock.close()
        if self._path is not None:
            with contextlib.suppress(OSError):
                self._path.unlink()
            self._path = None

    def __enter__(self) -> SchedulerWakeup:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
