"""The forker: the small, quiet process a worker's task processes are forked from.

::

    worker            claims tries, records outcomes, heartbeats (the database work)
    forker            imports DAG files, forks task processes, reaps them
     ├── task process   running a try
     └── task process   the spare, waiting for the next workload

Why not fork task processes from the worker itself: after a fork, every page the
parent writes while the child lives is copied first (copy-on-write). A worker that
claims and records tries writes to hundreds of pages of its heap per try, and always
has a child alive (the running try, the spare), so it paid ~1,600 page faults a try.
The forker shares its pages with its children too, but it hardly writes: it waits on
its socket, forks, and reaps.

And why not a fork of the worker at all: the worker holds SQLAlchemy, the scheduler's
modules and their caches, ~60 MiB of heap that every fork copies the page tables of and
every exit tears down. A forker is forked from the zygote (:mod:`.zygote`), a fresh
interpreter with only what a try runs imported (no database library: see
:mod:`.task_process`), ~15 MiB. It is the zygote's child, not its worker's, so it
watches its worker (a pidfd): when the worker dies, it kills its task processes and
exits, so that no try runs on unsupervised.

The worker talks to its forker over a ``SOCK_SEQPACKET`` socket pair (message
boundaries kept, file descriptors passed along):

- worker -> forker ``("fork", fileloc, dag_id)``: import that DAG file if needed (so
  the task process inherits it), fork a task process; the answer is
  ``("forked", pid)`` with the task process's two pipe ends attached;
- forker -> worker ``("exited", pid, code)`` when a task process exits (``code`` is
  -N when killed by signal N), in any order relative to answers.

End of file on the socket (the worker closed it) makes the forker exit once its task
processes have; its task processes die with it (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import collections
import os
import pickle
import select
import signal
import socket
from typing import Any

from tradewind.execution.try_run import DagCache
from tradewind.executors.task_process import (
    ForkerConfig,
    TaskProcess,
    fork_task_process,
    kill_group,
)

#: Largest message either side sends (bytes): tiny tuples.
_MAX_MESSAGE = 4096


class Forker:
    """The worker's handle on its forker process."""

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self._sock = sock
        self.pid = pid
        self._exits: dict[int, int] = {}
        self._forked: collections.deque[TaskProcess] = collections.deque()
        self._requested = 0

    @classmethod
    def start(cls, request: socket.socket) -> Forker:
        """The forker at the other end of ``request`` (``zygote.request_forker``), once it
        says it is ready."""
        data = request.recv(_MAX_MESSAGE)
        if not data:
            raise RuntimeError("The forker did not start")
        _, pid = pickle.loads(data)
        return cls(request, int(pid))

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
        _wait_exit(self.pid)  # not our child: the zygote reaps it

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


def serve_worker(sock: socket.socket, worker_pid: int, config: ForkerConfig) -> None:
    """Be the forker of the worker ``worker_pid`` (in a process the zygote forked)."""
    try:
        worker = os.pidfd_open(worker_pid)
    except ProcessLookupError:  # it died before asking was answered
        return
    try:
        sock.send(pickle.dumps(("ready", os.getpid())))
        _serve(sock, DagCache(config.dag_loader), config, worker)
    finally:
        os.close(worker)


def _serve(sock: socket.socket, cache: DagCache, config: ForkerConfig, worker: int) -> None:
    """Fork on request, report exits; return when the worker closed the socket and the
    children are gone, or at once (killing them) when the worker died."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    children: set[int] = set()
    worker_gone = False
    while not (worker_gone and not children):
        watched = [wake_r, worker] if worker_gone else [sock.fileno(), wake_r, worker]
        ready, _, _ = select.select(watched, [], [])
        if worker in ready:  # a try whose worker died must not run on unsupervised
            for pid in children:
                kill_group(pid, signal.SIGKILL)
            return
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
            closing = [sock.fileno(), wake_r, wake_w, worker]
            process = fork_task_process(config, cache, closing=closing)
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


def _wait_exit(pid: int) -> None:
    """Block until process ``pid`` (not necessarily a child) has exited."""
    try:
        exited = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        select.select([exited], [], [])
    finally:
        os.close(exited)
