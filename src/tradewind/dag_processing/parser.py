"""Parse DAG files in child processes, with a timeout and a memory cap enforced from outside.

Why a child process per file: a DAG file is arbitrary code. It may loop forever,
allocate 10 GB, call ``os._exit()`` or leave threads and global state behind. In a
child, the parent can kill it when ``[core] dagbag_import_timeout`` expires (a
signal-based alarm in the same process cannot interrupt C code or ``time.sleep``
reliably), cap its address space with ``RLIMIT_AS``
(``[core] dag_file_processor_memory_limit_mb``) and treat any abnormal exit as an
import error of that file, while the processor and the other files carry on.

Start method: ``fork``. A forked child starts in about a millisecond with Tradewind,
the SDK and serialization already imported, which is what makes parsing hundreds of
files cheap; ``spawn`` would pay a fresh interpreter and those imports per file, and
``forkserver`` re-runs the parent's ``__main__`` in every child. Fork's known hazards
are threads and open connections in the parent, so the parent is kept light and
single-threaded: the processor waits on its children with
``multiprocessing.connection.wait`` instead of threads, and the child never touches
the parent's database connections (it only imports, serializes and writes to its
pipe, then leaves with ``os._exit``, which closes nothing it inherited). When the
parent does have other threads alive (say, embedded in a threaded host), the
``forkserver`` method is used instead, and ``spawn`` where neither exists.

The child sends back JSON text: serialized DAGs, the source text and import errors
with their tracebacks, so nothing user-defined is unpickled in the parent.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from tradewind.dag_processing.payload import ParseResult, build_result

#: Seconds a killed child gets to exit after SIGTERM before it is sent SIGKILL.
KILL_GRACE = 1.0


@dataclass(frozen=True)
class ParseOptions:
    """How a file is parsed.

    Attributes:
        timeout: seconds the import may take (``[core] dagbag_import_timeout``).
        memory_limit_mb: MiB of address space the child may add to what it starts
            with (``[core] dag_file_processor_memory_limit_mb``); 0 means no limit.
        safe_mode: apply the safe-mode heuristic to members of zip archives.
        sys_path: folders put on the child's ``sys.path`` (the DAGs folder).
    """

    timeout: float = 30.0
    memory_limit_mb: int = 0
    safe_mode: bool = True
    sys_path: tuple[str, ...] = field(default_factory=tuple)


def parse_file(
    path: str | os.PathLike[str],
    *,
    timeout: float,
    memory_limit_mb: int = 0,
    safe_mode: bool = True,
    sys_path: Iterable[str | os.PathLike[str]] = (),
) -> ParseResult:
    """Import ``path`` in a child process and return what it defines; never raises for it.

    A timeout, a crash, a memory error or ``sys.exit()`` in the file all become an
    import error of the result.
    """
    options = ParseOptions(
        timeout=timeout,
        memory_limit_mb=memory_limit_mb,
        safe_mode=safe_mode,
        sys_path=tuple(str(p) for p in sys_path),
    )
    return next(iter(parse_files([Path(path)], options, parallelism=1)))


def parse_files(
    paths: Sequence[Path], options: ParseOptions, *, parallelism: int
) -> Iterator[ParseResult]:
    """Parse ``paths`` with at most ``parallelism`` children at once, yielding as they end.

    Results come in completion order. Every child is reaped before this returns, also
    when the caller stops iterating early or an exception interrupts it.
    """
    pending = list(reversed(paths))
    running: list[ChildParse] = []
    try:
        while pending or running:
            while pending and len(running) < max(1, parallelism):
                running.append(ChildParse.start(pending.pop(), options))
            deadline = min(job.deadline for job in running)
            ready = wait(
                [job.waitable for job in running], timeout=max(0.0, deadline - time.monotonic())
            )
            for job in list(running):
                if job.waitable in ready or job.deadline <= time.monotonic():
                    running.remove(job)
                    yield job.finish()
    finally:
        for job in running:
            job.kill()


class ChildParse:
    """One child process importing one file, and the parent's end of its pipe."""

    def __init__(
        self, path: Path, options: ParseOptions, process: BaseProcess, conn: Connection
    ) -> None:
        self.path = path
        self.options = options
        self.process = process
        self.conn = conn
        self.started = time.monotonic()
        self.deadline = self.started + options.timeout

    @classmethod
    def start(cls, path: Path, options: ParseOptions) -> ChildParse:
        context: Any = multiprocessing.get_context(start_method())
        parent_conn, child_conn = context.Pipe(duplex=False)
        process = context.Process(
            target=_child_main,
            args=(child_conn, str(path), options),
            name=f"tradewind-parse-{path.name}",
            daemon=False,  # a daemonic child could not start processes of its own
        )
        try:
            process.start()
        finally:
            child_conn.close()  # so the parent sees EOF when the child dies
        return cls(path, options, process, parent_conn)

    @property
    def waitable(self) -> Connection:
        return self.conn

    def finish(self) -> ParseResult:
        """Collect the result (or turn the child's failure into one) and reap the child."""
        try:
            payload: dict[str, Any] | None = None
            if self.conn.poll(max(0.0, self.deadline - time.monotonic())):
                try:
                    payload = json.loads(self.conn.recv_bytes())
                except (EOFError, OSError, ValueError):
                    payload = None
            if payload is not None:
                self.process.join(KILL_GRACE)  # let it exit on its own: flushes its output
                return ParseResult.from_json(payload)
            if time.monotonic() >= self.deadline and self.process.is_alive():
                return self._failure(
                    f"DagBag import timeout for {self.path} after {self.options.timeout}s"
                )
            self.process.join(KILL_GRACE)
            return self._failure(_exit_message(self.path, self.process.exitcode))
        finally:
            self.kill()

    def kill(self) -> None:
        """End the child if it still runs and release its resources; idempotent."""
        if not self.conn.closed:
            self.conn.close()
        process = self.process
        try:
            if process.is_alive():
                process.terminate()
                process.join(KILL_GRACE)
                if process.is_alive():
                    process.kill()
            process.join()
            process.close()
        except ValueError:  # already closed
            pass

    def _failure(self, message: str) -> ParseResult:
        return ParseResult(
            path=str(self.path),
            import_errors={str(self.path): message},
            duration=time.monotonic() - self.started,
        )


def start_method() -> str:
    """``fork`` in a single-threaded parent; otherwise ``forkserver``, else ``spawn``."""
    available = multiprocessing.get_all_start_methods()
    if "fork" in available and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in available else "spawn"


def _exit_message(path: Path, exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        how = f"was killed by signal {-exitcode}"
        if exitcode == -9:
            how += " (out of memory?)"
    else:
        how = f"exited with code {exitcode}"
    return f"The process parsing {path} {how} before reporting a result"


def _child_main(conn: Connection, path: str, options: ParseOptions) -> None:
    """Entry point of the child: cap memory, import, send JSON, leave."""
    try:
        _limit_memory(options.memory_limit_mb)
        result = build_result(Path(path), safe_mode=options.safe_mode, sys_path=options.sys_path)
        conn.send_bytes(json.dumps(result.to_json()).encode("utf-8"))
    finally:
        conn.close()


def _limit_memory(limit_mb: int) -> None:
    """Cap the address space at what the child has now plus ``limit_mb`` MiB.

    Counting from the child's own size, not from zero, keeps the setting meaningful
    whatever the parent's footprint is (a forked child inherits its mappings).
    """
    if limit_mb <= 0:
        return
    try:
        import resource
    except ImportError:  # not on Windows
        return
    extra = limit_mb * 1024 * 1024
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        current = 0
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = current + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):  # macOS does not enforce RLIMIT_AS
        pass
