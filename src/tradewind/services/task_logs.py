"""Task logs: where the log of each try lives, and reading one back.

The worker writes each try to its own file (:func:`task_log_path`), in Airflow's layout::

    <base_log_folder>/dag_id=<d>/run_id=<r>/task_id=<t>/[map_index=<i>/]attempt=<n>.log

Secrets are masked when lines are written, so what is read here is safe to show to
anyone allowed to read the DAG's logs.

Reading follows Airflow 2.10's file task handler, so clients written for Airflow page
through a growing log the same way: the log is the file's lines joined by ``\\n``;
``log_pos`` counts its characters; a reader that already has ``log_pos`` characters
gets only the rest (and no ``***`` header lines); ``end_of_log`` is false only while the
try being read is the instance's current one and it is still running or deferred.

A log is only ever read from inside the logs folder: the ids that name the file come
from the database, and a run id may contain ``/`` or ``..``, so the resolved path must
stay inside the resolved folder or nothing is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import NotFound
from tradewind.sdk.states import TaskInstanceState
from tradewind.services.log_layout import task_log_path
from tradewind.storage.repositories.task_instances import get_task_instance
from tradewind.storage.tables import TaskInstanceHistoryRow

#: States in which the current try may still write to its log.
_WRITING = frozenset({TaskInstanceState.RUNNING, TaskInstanceState.DEFERRED})


@dataclass(frozen=True)
class LogTry:
    """One try of a task instance, as far as reading its log needs it.

    ``hostname`` is the machine that ran the try (None if unknown); ``finished`` is
    false while the try may still add lines to its log.
    """

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    hostname: str | None
    finished: bool


@dataclass(frozen=True)
class LogChunk:
    """What one read of a log returns.

    Attributes:
        messages: Airflow's ``***`` header lines (which file was read, or that there is
            none), without the ``*** `` prefix; empty when continuing from ``log_pos``.
        text: the log, or the part of it after the caller's ``log_pos``.
        log_pos: characters of the whole log read so far: the next ``log_pos``.
        end_of_log: no more lines will come.
    """

    messages: tuple[str, ...]
    text: str
    log_pos: int
    end_of_log: bool


def require_log_try(
    session: Session, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1
) -> LogTry:
    """The try ``try_number`` of a task instance: 1 up to its current try number.

    Raises:
        NotFound: no such task instance, or it has no such try (yet).
    """
    ti = get_task_instance(session, dag_id, run_id, task_id, map_index)
    if ti is None:
        raise NotFound("TaskInstance not found")
    if not 1 <= try_number <= ti.try_number:
        raise NotFound(
            f"Task instance {task_id!r} of DAGRun {run_id!r} has no try {try_number}"
            f" (its latest try is {ti.try_number})"
        )
    hostname = ti.hostname
    if try_number != ti.try_number:
        history = TaskInstanceHistoryRow
        hostname = session.scalar(
            sa.select(history.hostname).where(
                history.dag_id == dag_id,
                history.run_id == run_id,
                history.task_id == task_id,
                history.map_index == map_index,
                history.try_number == try_number,
            )
        )
    current_and_writing = try_number == ti.try_number and ti.state in _WRITING
    return LogTry(dag_id, run_id, task_id, map_index, try_number, hostname, not current_and_writing)


def read_task_log(
    base_log_folder: Path | str, log_try: LogTry, *, log_pos: int | None = None
) -> LogChunk:
    """Read the log of ``log_try`` from the logs folder.

    Args:
        base_log_folder: ``[logging] base_log_folder``.
        log_pos: characters the caller already has; None reads from the start, with
            the header lines.

    Returns:
        The log; a missing file is an empty log whose header says so.

    Raises:
        NotFound: the file would lie outside ``base_log_folder``.
    """
    path = task_log_path(
        base_log_folder,
        dag_id=log_try.dag_id,
        run_id=log_try.run_id,
        task_id=log_try.task_id,
        try_number=log_try.try_number,
        map_index=log_try.map_index,
    )
    if not path.resolve().is_relative_to(Path(base_log_folder).resolve()):
        raise NotFound("The log of this try is not in the logs folder")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        messages: tuple[str, ...] = (f"Log file does not exist: {path}",)
        text = ""
    except OSError as exc:
        messages, text = (f"Could not read log file {path}: {exc.strerror}",), ""
    else:
        messages = ("Found local files:", f"  * {path}")
        text = "\n".join(raw.decode("utf-8", errors="replace").splitlines())
    whole = len(text)
    if log_pos is not None:
        messages, text = (), text[log_pos:]
    return LogChunk(messages, text, whole, log_try.finished)
