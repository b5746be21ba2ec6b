"""The zygote: the small, fresh interpreter every worker's forker is forked from.

::

    scheduler (LocalExecutor)
     ├── zygote          a fresh interpreter with only what a try runs imported
     │    ├── forker of worker 0     forked on that worker's request
     │    └── forker of worker 1
     ├── worker 0 ...    forked from the scheduler: SQLAlchemy, the database work
     └── worker 1 ...

A forker must not be forked from its worker: the worker holds SQLAlchemy and the
scheduler's caches, ~60 MiB of heap whose page tables every task process would copy
and tear down again (see ``tradewind.executors.forker``). Starting a fresh interpreter
per worker costs a quarter of a second of CPU each, paid again for every worker a burst
of work starts; the zygote pays it once per executor, and a forker forked from it is
ready in milliseconds.

A worker asks for its forker over the zygote's socket, which every worker inherits
(:func:`request_forker`): ``("forker", worker_pid)`` with one end of a fresh socket pair
attached; the forker gets that end. The forker is the zygote's child, not the worker's,
so it watches the worker itself (a pidfd) and dies with it, killing its tries. It does
not die with the zygote: after a ``kill -9`` of the scheduler (and so of the zygote), a
worker lets its running try finish, and the forker that runs it must stay.

The zygote dies with the scheduler (``PR_SET_PDEATHSIG``) and is killed by
``LocalExecutor.end``; it reaps the forkers that exit meanwhile.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import select
import signal
import socket
import sys
import traceback
from typing import NoReturn

from tradewind.execution.task_logging import TASK_LOGGER_NAME
from tradewind.executors.forker import serve_worker
from tradewind.executors.task_process import ForkerConfig, rehearse_try
from tradewind.processes import die_with_parent, exit_forked_child

#: Largest request (bytes); requests are tiny tuples.
_MAX_MESSAGE = 4096
#: Largest config message (bytes).
_MAX_CONFIG = 1 << 20


class Zygote:
    """The executor's handle on its zygote process."""

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self._sock = sock
        self.pid = pid

    @classmethod
    def start(cls, config: ForkerConfig) -> Zygote:
        """Start the zygote, a child of this process, and send it ``config``.

        It inherits the one end of the socket and nothing else: every other file
        descriptor of a Tradewind process is opened non-inheritable. It gets this
        process's import path, so it finds Tradewind and DAG code exactly where this
        process does (not through ``PYTHONPATH``: tasks' own subprocesses would inherit it).
        """
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            theirs.set_inheritable(True)
            code = (
                f"import sys; sys.path[:] = {sys.path!r}; "
                "from tradewind.executors.zygote import main; main()"
            )
            argv = [sys.executable, "-c", code, str(theirs.fileno()), str(os.getpid())]
            pid = os.posix_spawn(sys.executable, argv, os.environ)
        finally:
            theirs.close()
        ours.send(pickle.dumps(config))
        return cls(ours, pid)

    def fileno(self) -> int:
        """The socket workers inherit and ask for their forker on."""
        return self._sock.fileno()

    def alive(self) -> bool:
        """Whether the zygote is still running (reaps it if not)."""
        try:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return pid == 0

    def stop(self) -> None:
        """Kill and reap the zygote (forkers it started live on with their workers)."""
        self._sock.close()
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def request_forker(zygote_fd: int) -> socket.socket:
    """From a worker: ask the zygote for a forker; the socket to talk to it."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        zygote = socket.socket(fileno=os.dup(zygote_fd))
        try:
            socket.send_fds(zygote, [pickle.dumps(("forker", os.getpid()))], [theirs.fileno()])
        finally:
            zygote.close()
    finally:
        theirs.close()
    return ours


def main() -> NoReturn:
    """The zygote process (``Zygote.start``): its socket's descriptor is ``argv[1]``, the
    executor's pid ``argv[2]``."""
    code = 0
    try:
        die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the scheduler's to handle
        sock = socket.socket(fileno=int(sys.argv[1]))
        data = sock.recv(_MAX_CONFIG)
        # No config: the executor is gone. A parent other than the executor: it died
        # before PDEATHSIG was set, and nobody would stop this process.
        if data and os.getppid() == int(sys.argv[2]):
            config: ForkerConfig = pickle.loads(data)
            # Tries log at INFO; set once here rather than raised and restored per try.
            logging.getLogger(TASK_LOGGER_NAME).setLevel(logging.INFO)
            rehearse_try()
            gc.freeze()  # what forkers and tries share with the zygote stays shared
            _serve(sock, config)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        exit_forked_child(code)


def _serve(sock: socket.socket, config: ForkerConfig) -> None:
    """Fork a forker per request, reap those that exit; return at end of file."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    while True:
        ready, _, _ = select.select([sock.fileno(), wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 512)
            _reap()
        if sock.fileno() not in ready:
            continue
        data, fds, _flags, _address = socket.recv_fds(sock, _MAX_MESSAGE, 1)
        if not data:
            return
        if not fds:
            continue
        _, worker_pid = pickle.loads(data)
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in (wake_r, wake_w):
                os.close(fd)
            sock.close()
            _forker_main(socket.socket(fileno=fds[0]), int(worker_pid), config)
        os.close(fds[0])


def _forker_main(sock: socket.socket, worker_pid: int, config: ForkerConfig) -> NoReturn:
    code = 0
    try:
        serve_worker(sock, worker_pid, config)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        exit_forked_child(code)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
