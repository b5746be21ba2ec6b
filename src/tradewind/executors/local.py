"""LocalExecutor: up to ``parallelism`` warm worker processes, one forked process per try.

See :mod:`tradewind.executors.worker_pool` for the processes and
:mod:`tradewind.executors.pipes` for their messages.
This module is the scheduler's side: it hands each workload to an idle worker
(starting another one, up to ``parallelism``, when none is idle),
turns the result pipe's messages into :class:`TaskEvent` s, replaces a worker that
died, and on ``end`` stops and reaps every process it started.

Events: ``running`` when the task process claimed the try; the recorded final state
when it finished; ``failed`` with ``lost=True`` and ``detail="exit code <n>"`` when the
task process exited (or was killed, ``-9`` for SIGKILL) after claiming the try but
before recording it — the scheduler then fails or retries the try, guarded on its
try number. A workload whose try was not ``queued`` any more (a replay) produces no
event. A workload whose worker died (or could not reach the database) before starting
it is given to another worker, once; the second time it is reported lost.
``wait_fileno`` is the result pipe itself, so the scheduler's ``select`` wakes
the moment a task process reports.

Linux (``fork``) only; workers are started in ``start`` from the process that
imported this module, which has imported Tradewind, SQLAlchemy and the SDK.
"""

from __future__ import annotations

import collections
import dataclasses
import fcntl
import itertools
import logging
import os
import signal
import time
from dataclasses import dataclass

from tradewind.config import Settings
from tradewind.errors import Conflict
from tradewind.execution.try_run import DagLoader
from tradewind.executors.base import TaskEvent, TaskWorkload
from tradewind.executors.pipes import decode_messages, encode_workload, wait_readable
from tradewind.executors.task_process import ForkerConfig
from tradewind.executors.worker_pool import WorkerConfig, worker_main
from tradewind.executors.zygote import Zygote
from tradewind.storage.engine import create_engine_from_settings

logger = logging.getLogger(__name__)

#: Result pipe capacity asked for (bytes), so task processes rarely wait on a busy scheduler.
RESULT_PIPE_SIZE = 1 << 20
#: Seconds ``end`` gives task processes between SIGTERM and SIGKILL, at most
#: (``[core] killed_task_cleanup_time`` when shorter).
TERM_GRACE = 5.0


@dataclass
class _Worker:
    pid: int
    inbox: int
    seq: int | None = None


@dataclass
class _Try:
    workload: TaskWorkload
    worker: _Worker
    task_pid: int | None = None
    started: bool = False
    finished: bool = False


class LocalExecutor:
    """Runs each try in its own process forked from one of ``parallelism`` warm workers.

    ``warm_workers`` of them start with the executor, the others when a workload finds
    every worker busy; a worker then stays until ``end``. Why not all at once: each
    worker keeps a spare task process, so ``parallelism`` 32 meant 64 idle processes
    (about 1 GiB of PSS) and seconds of start-up forking them, on machines where most
    DAGs never run 32 tries at once.

    Args:
        parallelism: worker processes at most, i.e. tries running at once.
        settings: the database to connect to, the log folder, the heartbeat threshold.
        dag_loader: imports DAG files in the workers (``collect_dags``).
        heartbeat_interval: seconds between heartbeats of a running try; None
            derives it from ``[scheduler] scheduler_zombie_task_threshold``.
        warm_workers: workers started by ``start`` (at most ``parallelism``); None
            for :func:`default_warm_workers`.
    """

    def __init__(
        self,
        parallelism: int,
        settings: Settings,
        *,
        dag_loader: DagLoader,
        heartbeat_interval: float | None = None,
        warm_workers: int | None = None,
    ) -> None:
        if parallelism < 1:
            raise ValueError(f"parallelism must be at least 1, got {parallelism}")
        self.parallelism = parallelism
        self.warm_workers = min(
            parallelism, default_warm_workers() if warm_workers is None else max(warm_workers, 1)
        )
        self.settings = settings
        self._dag_loader = dag_loader
        self._heartbeat_interval = heartbeat_interval
        self._workers: list[_Worker] = []
        self._idle: collections.deque[_Worker] = collections.deque()
        self._pending: collections.deque[TaskWorkload] = collections.deque()
        self._tries: dict[int, _Try] = {}
        #: Tries given to a second worker because the first died before starting them.
        self._requeued: set[tuple[int, int]] = set()
        self._events: list[TaskEvent] = []
        self._seq = itertools.count(1)
        self._buffer = b""
        self._results_r = self._results_w = -1
        self._config: WorkerConfig | None = None
        self._zygote: Zygote | None = None
        self._ended = False

    @property
    def worker_pids(self) -> list[int]:
        """Pids of the worker processes started and not yet reaped (for supervision, tests)."""
        return [worker.pid for worker in self._workers]

    @property
    def zygote_pid(self) -> int | None:
        """Pid of the process forkers are forked from (see ``zygote``), once started."""
        return self._zygote.pid if self._zygote is not None else None

    # -- the Executor protocol ---------------------------------------------------------

    def start(self) -> None:
        """Start the ``warm_workers`` workers."""
        if self._config is not None:
            return
        self._results_r, self._results_w = os.pipe()
        os.set_blocking(self._results_r, False)
        try:
            fcntl.fcntl(self._results_w, fcntl.F_SETPIPE_SZ, RESULT_PIPE_SIZE)
        except OSError:  # above /proc/sys/fs/pipe-max-size: the default 64 KiB will do
            pass
        # Built here, never connected here: workers inherit it with the DBAPI imported.
        engine = create_engine_from_settings(
            self.settings.database, fernet_key=self.settings.core.fernet_key
        )
        self._zygote = Zygote.start(ForkerConfig(self.settings, self._dag_loader))
        self._config = WorkerConfig(
            self.settings,
            engine,
            self._dag_loader,
            self._heartbeat_interval,
            zygote_fd=self._zygote.fileno(),
        )
        for _ in range(self.warm_workers):
            self._idle.append(self._spawn())

    def queue(self, workload: TaskWorkload) -> None:
        if self._config is None or self._ended:
            raise Conflict("LocalExecutor.queue() before start() or after end()")
        self._pending.append(workload)
        self._dispatch()

    def open_slots(self) -> int:
        return max(self.parallelism - len(self._tries) - len(self._pending), 0)

    def poll_events(self) -> list[TaskEvent]:
        self._read_results()
        self._check_workers()
        self._dispatch()
        events, self._events = self._events, []
        return events

    def wait_fileno(self) -> int | None:
        return self._results_r if self._results_r >= 0 else None

    def end(self, timeout: float = 10.0) -> None:
        """Drop workloads not yet handed to a worker (they stay ``queued``), let running
        tries finish for up to ``timeout`` seconds, then SIGTERM their process groups,
        SIGKILL what is left after a grace period, and reap every worker."""
        if self._config is None or self._ended:
            return
        self._ended = True
        self._pending.clear()
        for worker in self._workers:
            _close(worker.inbox)  # end of file: an idle worker exits, a busy one after its try
        self._wait_workers(time.monotonic() + timeout)
        if self._alive_workers():
            self._signal_tries(signal.SIGTERM)
            grace = min(TERM_GRACE, self.settings.core.killed_task_cleanup_time)
            self._wait_workers(time.monotonic() + grace)
        if self._alive_workers():
            self._signal_tries(signal.SIGKILL)
            self._wait_workers(time.monotonic() + 1.0)
        for worker in self._alive_workers():
            _kill(worker.pid, signal.SIGKILL)
            self._reap(worker, block=True)
        self._read_results()
        _close(self._results_r)
        _close(self._results_w)
        self._results_r = self._results_w = -1
        if self._zygote is not None:
            self._zygote.stop()
        self._config.engine.dispose()

    # -- workers -----------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        self._ensure_zygote()
        assert self._config is not None
        inbox_r, inbox_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: keep only its inbox and the result pipe's write end
            for fd in [self._results_r, inbox_w, *(w.inbox for w in self._workers)]:
                _close(fd)
            worker_main(inbox_r, self._results_w, self._config)
        os.close(inbox_r)
        worker = _Worker(pid=pid, inbox=inbox_w)
        self._workers.append(worker)
        return worker

    def _ensure_zygote(self) -> None:
        """Restart the zygote if it died (killed by hand, by the OOM killer): a new worker
        gets its forker from it. Workers already running keep theirs."""
        assert self._config is not None and self._zygote is not None
        if self._zygote.alive():
            return
        logger.warning("The executor's zygote (pid %d) died; starting another", self._zygote.pid)
        self._zygote.stop()
        self._zygote = Zygote.start(ForkerConfig(self.settings, self._dag_loader))
        self._config = dataclasses.replace(self._config, zygote_fd=self._zygote.fileno())

    def _dispatch(self) -> None:
        while self._pending and not self._ended:
            if not self._idle:
                if len(self._workers) >= self.parallelism:
                    return
                # It reads the workload from its inbox once warm (tens of milliseconds).
                self._idle.append(self._spawn())
            worker = self._idle.popleft()
            workload = self._pending.popleft()
            seq = next(self._seq)
            try:
                os.write(worker.inbox, encode_workload(seq, workload))
            except OSError:  # the worker died meanwhile; _check_workers replaces it
                self._pending.appendleft(workload)
                continue
            worker.seq = seq
            self._tries[seq] = _Try(workload, worker)

    def _check_workers(self) -> None:
        """Forget workers that died (a DAG file killed it while importing, a stray signal),
        starting new ones while fewer than ``warm_workers`` are left."""
        for worker in list(self._workers):
            if not self._reap(worker, block=False):
                continue
            self._read_results()  # what it wrote before dying, e.g. its last "exited"
            self._workers.remove(worker)
            if worker in self._idle:
                self._idle.remove(worker)
            if worker.seq is not None:
                self._finish_try(worker.seq, code=None)
            _close(worker.inbox)
            if not self._ended and len(self._workers) < self.warm_workers:
                self._idle.append(self._spawn())

    def _reap(self, worker: _Worker, *, block: bool) -> bool:
        """Whether ``worker`` has exited (reaping it)."""
        try:
            pid, _ = os.waitpid(worker.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return True
        return pid != 0

    def _alive_workers(self) -> list[_Worker]:
        return [worker for worker in self._workers if not self._reap(worker, block=False)]

    def _wait_workers(self, deadline: float) -> None:
        """Keep reading results until every worker exited or ``deadline`` passed."""
        while self._alive_workers():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if wait_readable(self._results_r, min(left, 0.02)):
                self._read_results()
        self._workers.clear()

    def _signal_tries(self, signum: int) -> None:
        self._read_results()
        for running in self._tries.values():
            if running.task_pid is not None:
                try:
                    os.killpg(running.task_pid, signum)
                except (ProcessLookupError, PermissionError):
                    pass

    # -- results -----------------------------------------------------------------------

    def _read_results(self) -> None:
        if self._results_r < 0:
            return
        while True:
            try:
                chunk = os.read(self._results_r, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self._buffer += chunk
        messages, self._buffer = decode_messages(self._buffer)
        for message in messages:
            self._handle(message)

    def _handle(self, message: dict[str, object]) -> None:
        seq = int(str(message["seq"]))
        running = self._tries.get(seq)
        if running is None:
            return
        kind = message["kind"]
        if kind == "forked":
            running.task_pid = int(str(message["pid"]))
        elif kind == "started":
            running.started = True
            self._events.append(TaskEvent(running.workload, "running"))
        elif kind == "finished":
            running.finished = True
            self._events.append(TaskEvent(running.workload, str(message["state"])))
        elif kind == "exited":
            self._finish_try(seq, code=int(str(message["code"])))

    def _finish_try(self, seq: int, *, code: int | None) -> None:
        """The task process is gone (``code`` None: its worker died too)."""
        running = self._tries.pop(seq)
        worker = running.worker
        worker.seq = None
        if code is not None and worker in self._workers and not self._ended:
            self._idle.append(worker)
        if running.finished or (code == 0 and not running.started):
            return  # recorded, or a replay that was not run
        key = (running.workload.ti_id, running.workload.try_number)
        if not running.started and key not in self._requeued and not self._ended:
            # Its worker died (or failed to claim it) before saying it started the try:
            # most likely never claimed, so give it to another worker, once. Had it been
            # claimed, the second claim's guard fails and zombie detection takes over.
            self._requeued.add(key)
            logger.warning("Worker of %s died before starting it; queued again", key)
            self._pending.appendleft(running.workload)
            return
        detail = f"exit code {code}" if code is not None else "worker process died"
        logger.warning("Task process of %s was lost: %s", running.workload.key, detail)
        self._events.append(TaskEvent(running.workload, "failed", lost=True, detail=detail))


def default_warm_workers() -> int:
    """Two workers per CPU: enough to keep the CPUs busy with short tries, while the
    next workloads find a warm worker and its spare waiting."""
    return 2 * (os.cpu_count() or 1)


def _close(fd: int) -> None:
    if fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
