"""The forker: the small, quiet process a worker's task processes are forked from.

::

    worker            claims tries, records outcomes, heartbeats (the database work)
     └── forker       imports DAG files, forks task processes, reaps them
          ├── task process   running a try
          └── task process   the spare, waiting for the next workload

Why not fork task processes from the worker itself: after a fork, every page the
parent writes while the child lives is copied first (copy-on-write). A worker that
claims and records tries writes to hundreds of pages of its heap per try, and always
has a child alive (the running try, the spare), so it paid ~1,600 page faults a try.
The forker shares its pages with its children too, but it hardly writes: it waits on
its socket, forks, and reaps.

And why a fresh interpreter (``posix_spawn``), not a fork of the worker: the worker
holds SQLAlchemy, the scheduler's modules and their caches, ~60 MiB of heap that every
fork copies the page tables of and every exit tears down. The forker imports only what
a try runs (no database library: see :mod:`.task_process`), ~15 MiB; it costs a
fraction of a second once, when its worker starts.

The worker talks to its forker over a ``SOCK_SEQPACKET`` socket pair (message
boundaries kept, file descriptors passed along):

- worker -> forker ``("fork", fileloc, dag_id)``: import that DAG file if needed (so
  the task process inherits it), fork a task process; the answer is
  ``("forked", pid)`` with the task process's two pipe ends attached;
- forker -> worker ``("exited", pid, code)`` when a task process exits (``code`` is
  -N when killed by signal N), in any order relative to answers.

The forker dies with its worker (``PR_SET_PDEATHSIG``), and its task processes with
it, so a SIGKILLed worker leaves no try running unsupervised. End of file on the
socket (the worker closed it) makes the forker exit once its task processes have.
"""

from __future__ import annotations

import collections
import gc
import logging
import os
import pickle
import select
import signal
import socket
import sys
import traceback
from typing import Any, NoReturn

from tradewind.execution.task_logging import TASK_LOGGER_NAME
from tradewind.execution.try_run import DagCache
from tradewind.executors.task_process import (
    ForkerConfig,
    TaskProcess,
    fork_task_process,
    rehearse_try,
)
from tradewind.processes import die_with_parent, exit_forked_child

#: Largest message either side sends (bytes) but the first (the config): tiny tuples.
_MAX_MESSAGE = 4096
#: Largest config message (bytes).
_MAX_CONFIG = 1 << 20


class Forker:
    """The worker's handle on its forker process."""

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self._sock = sock
        self.pid = pid
        self._exits: dict[int, int] = {}
        self._forked: collections.deque[TaskProcess] = collections.deque()
        self._requested = 0

    @classmethod
    def start(cls, config: ForkerConfig) -> Forker:
        """Start a forker, a child of this process, and send it ``config``.

        It inherits the one end of the socket and nothing else: every other file
        descriptor of a Tradewind process is opened non-inheritable.
        """
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            theirs.set_inheritable(True)
            # The worker's import path, so that the forker finds Tradewind and DAG code
            # exactly where the worker does (not put in PYTHONPATH: tasks would inherit it).
            code = (
                f"import sys; sys.path[:] = {sys.path!r}; "
                "from tradewind.executors.forker import main; main()"
            )
            argv = [sys.executable, "-c", code, str(theirs.fileno()), str(os.getpid())]
            pid = os.posix_spawn(sys.executable, argv, os.environ)
        finally:
            theirs.close()
        ours.send(pickle.dumps(config))
        return cls(ours, pid)

    def request_spare(self, fileloc: str | None = None, dag_id: str | None = None) -> None:
        """Ask for a new spare task process (with ``fileloc`` imported first, if given)
        without waiting: the forker imports and forks while the current try runs."""
        self._sock.send(pickle.dumps(("fork", fileloc, dag_id)))
        self._requested += 1

    def take_spare(self) -> TaskProcess:
        """The oldest requested spare, waiting for it if the forker is not done yet."""
        if not self._forked and not self._requested:
            self.request_spare()
        while not self._forked:
            self._receive()
        return self._forked.popleft()

    def wait(self, pid: int) -> int:
        """Block until task process ``pid`` exits; its exit code (-N: signal N)."""
        while pid not in self._exits:
            self._receive()
        return self._exits.pop(pid)

    def stop(self) -> None:
        """Close the socket (the forker exits once its task processes have) and reap it.

        Spares received but never used are retired first: their pipes end here, and a
        spare whose pipe stays open would wait forever, and the forker with it.
        """
        while self._forked:
            self._forked.popleft().retire()
        self._sock.close()
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass

    def _receive(self) -> None:
        data, fds, _flags, _address = socket.recv_fds(self._sock, _MAX_MESSAGE, 2)
        if not data:
            raise RuntimeError("The forker process died")
        message: tuple[Any, ...] = pickle.loads(data)
        if message[0] == "exited":
            self._exits[int(message[1])] = int(message[2])
        elif message[0] == "forked":
            handoff, outcome = fds
            self._forked.append(TaskProcess(int(message[1]), handoff, outcome, self))
            self._requested -= 1


def main() -> NoReturn:
    """The forker process (``Forker.start``): its socket's descriptor is ``argv[1]``,
    its worker's pid ``argv[2]``."""
    code = 0
    try:
        die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the scheduler's to handle
        sock = socket.socket(fileno=int(sys.argv[1]))
        data = sock.recv(_MAX_CONFIG)
        # No config: the worker is gone. A parent other than the worker: it died before
        # PDEATHSIG was set, and nobody would stop this process.
        if data and os.getppid() == int(sys.argv[2]):
            config: ForkerConfig = pickle.loads(data)
            # Tries log at INFO; set once here rather than raised and restored per try.
            logging.getLogger(TASK_LOGGER_NAME).setLevel(logging.INFO)
            rehearse_try()
            gc.freeze()  # what the task processes share with the forker stays shared
            _serve(sock, DagCache(config.dag_loader), config)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        exit_forked_child(code)


def _serve(sock: socket.socket, cache: DagCache, config: ForkerConfig) -> None:
    """Fork on request, report exits; return when the worker is gone and children too."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    children: set[int] = set()
    worker_gone = False
    while not (worker_gone and not children):
        watched = [wake_r] if worker_gone else [sock.fileno(), wake_r]
        ready, _, _ = select.select(watched, [], [])
        if wake_r in ready:
            os.read(wake_r, 512)
        _report_exits(sock, children, tell=not worker_gone)
        if sock.fileno() in ready and not worker_gone:
            data = sock.recv(_MAX_MESSAGE)
            if not data:
                worker_gone = True
                continue
            _, fileloc, dag_id = pickle.loads(data)
            if fileloc is not None and dag_id is not None:
                cache.preload(fileloc, dag_id)
            process = fork_task_process(config, cache, closing=[sock.fileno(), wake_r, wake_w])
            children.add(process.pid)
            socket.send_fds(
                sock, [pickle.dumps(("forked", process.pid))], [process.handoff, process.outcome]
            )
            os.close(process.handoff)
            os.close(process.outcome)


def _report_exits(sock: socket.socket, children: set[int], *, tell: bool) -> None:
    for pid in list(children):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, 0
        if done == 0:
            continue
        children.discard(pid)
        if tell:
            try:
                sock.send(pickle.dumps(("exited", pid, os.waitstatus_to_exitcode(status))))
            except OSError:
                pass
