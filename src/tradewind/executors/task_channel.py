"""A task process's requests to its worker: XComs, Variables and Connections.

The task process imports no database library (see :mod:`.task_process`): whatever a
try reads or writes in the metadata database, its worker does for it. The task
process sends a :class:`Request` up its outcome pipe and blocks on the answer down
its hand-off pipe; the worker answers between heartbeats (``TaskProcess.
collect_outcome``) with :func:`answer`, over its own sessions. Requests are rare:
the try's return value travels with its outcome instead
(:mod:`tradewind.execution.try_xcoms`), so most tries send none.

A request the worker fails to answer (the database is down) raises
:class:`WorkerRequestError` in the task, which fails the try as any error would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from tradewind.execution.memory import XComEntry
from tradewind.execution.try_run import TryServices
from tradewind.execution.try_xcoms import check_serialisable
from tradewind.executors.frames import read_frame, write_frame
from tradewind.sdk.context import TemplateConnection


class WorkerRequestError(RuntimeError):
    """The worker could not answer a request (its message says why)."""


@dataclass(frozen=True)
class Request:
    """``op`` is one of ``xcom_set``, ``xcom_clear``, ``xcom_find``, ``variable``,
    ``connection``; ``args`` are the keyword arguments of that call."""

    op: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    value: Any = None
    error: str | None = None


class WorkerChannel:
    """The task process's end of its two pipes to the worker.

    Thread-safe: a request and its answer are one exchange under a lock. An exchange
    cut in half (a signal raised in the middle of reading the answer) leaves the
    pipes unusable, so later requests fail instead of reading someone else's answer.
    """

    def __init__(self, up_fd: int, down: IO[bytes]) -> None:
        self._up_fd = up_fd
        self._down = down
        self._lock = threading.Lock()
        self._broken = False

    def call(self, op: str, **args: Any) -> Any:
        with self._lock:
            if self._broken:
                raise WorkerRequestError("the channel to the worker was broken by an earlier error")
            self._broken = True
            write_frame(self._up_fd, Request(op, args))
            reply = read_frame(self._down)
            self._broken = False
        if not isinstance(reply, Reply):
            raise WorkerRequestError(f"the worker did not answer the {op} request")
        if reply.error is not None:
            raise WorkerRequestError(reply.error)
        return reply.value

    def send(self, value: Any) -> None:
        """Send the try's outcome (the last frame up)."""
        with self._lock:
            write_frame(self._up_fd, value)


class RemoteXComStore:
    """The ``XComStore`` of a task process: each call is a request to the worker."""

    def __init__(self, channel: WorkerChannel) -> None:
        self._channel = channel

    def set(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str, value: Any
    ) -> None:
        check_serialisable(key, value)  # the task's own error, before any round trip
        self._channel.call(
            "xcom_set",
            dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index,
            key=key, value=value,
        )  # fmt: skip

    def clear(
        self, *, dag_id: str, run_id: str, task_id: str | None = None, map_index: int | None = None
    ) -> None:
        self._channel.call(
            "xcom_clear", dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index
        )

    def find(
        self,
        *,
        dag_id: str,
        run_id: str,
        key: str | None = None,
        task_ids: Iterable[str] | None = None,
        map_indexes: Iterable[int] | None = None,
    ) -> list[XComEntry]:
        found: list[XComEntry] = self._channel.call(
            "xcom_find",
            dag_id=dag_id, run_id=run_id, key=key,
            task_ids=None if task_ids is None else list(task_ids),
            map_indexes=None if map_indexes is None else list(map_indexes),
        )  # fmt: skip
        return found


def remote_services(channel: WorkerChannel) -> TryServices:
    """A task process's XComs, Variables and Connections: all asked of its worker."""

    def variable(key: str) -> str | None:
        value: str | None = channel.call("variable", key=key)
        return value

    def connection(conn_id: str) -> TemplateConnection | None:
        found: TemplateConnection | None = channel.call("connection", conn_id=conn_id)
        return found

    return TryServices(xcoms=RemoteXComStore(channel), variable=variable, connection=connection)


def answer(request: Request, services: TryServices) -> Reply:
    """The worker's answer to ``request``, over its own ``services`` (the database)."""
    try:
        if request.op == "xcom_set":
            services.xcoms.set(**request.args)
            return Reply()
        if request.op == "xcom_clear":
            services.xcoms.clear(**request.args)
            return Reply()
        if request.op == "xcom_find":
            return Reply(services.xcoms.find(**request.args))
        if request.op == "variable":
            return Reply(services.variable(request.args["key"]))
        if request.op == "connection":
            return Reply(services.connection(request.args["conn_id"]))
    except Exception as exc:  # the task sees it as its own error
        return Reply(error=f"{request.op} failed in the worker: {type(exc).__name__}: {exc}")
    return Reply(error=f"unknown request {request.op!r}")
