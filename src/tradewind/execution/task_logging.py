"""The log of one task try: a file per try, in Airflow's folder layout.

``<base_log_folder>/dag_id=<d>/run_id=<r>/task_id=<t>/[map_index=<i>/]attempt=<n>.log``
(:func:`~tradewind.services.task_logs.task_log_path`, shared with the API's reader).

While :func:`capture_task_log` is active, everything the try says ends up in that
file, each line stamped with time and level and masked by a :class:`SecretsMasker`:

* records of the ``tradewind.task`` logger — the runner's own lines and those of
  operators (BashOperator streams its subprocess output there);
* ``print()`` and other writes to ``sys.stdout`` (INFO) and ``sys.stderr`` (WARNING),
  as Airflow redirects them.

``echo=True`` copies every line to the console too (``tradewind dags test``).
Redirecting ``sys.stdout`` is process-wide, which is right for a worker running
one try at a time and for the sequential ``dags test``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tradewind.execution.secrets_masker import SecretsMasker

# Shared with the reader of logs (the API must not import this package); re-exported
# here for the writers.
from tradewind.services.log_layout import task_log_path as task_log_path

#: The logger tasks and operators write to (Airflow's ``airflow.task``).
TASK_LOGGER_NAME = "tradewind.task"

#: Airflow's task log line format.
LOG_FORMAT = "[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s"


class MaskingFormatter(logging.Formatter):
    """Airflow's line format with UTC ISO timestamps; secrets masked in the whole line.

    Masking the formatted line (not just the message) also covers tracebacks and
    arguments interpolated into the message.
    """

    def __init__(self, masker: SecretsMasker | None = None, fmt: str = LOG_FORMAT) -> None:
        super().__init__(fmt)
        self.masker = masker

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}+0000"

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        return self.masker.mask(line) if self.masker is not None else line


class StreamToLogger(io.TextIOBase):
    """A text stream that turns each written line into a log record.

    Partial lines are buffered until a newline or :meth:`flush`, so ``print("a",
    end="")`` followed by ``print("b")`` is one line, as on a terminal.
    """

    def __init__(self, logger: logging.Logger, level: int) -> None:
        super().__init__()
        self._logger = logger
        self._level = level
        self._buffer = ""
        self._emitting = threading.local()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self._emit(line)
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            line, self._buffer = self._buffer, ""
            self._emit(line)

    def isatty(self) -> bool:
        return False

    def _emit(self, line: str) -> None:
        line = line.rstrip("\r")
        # A record that logging itself writes to stderr (``logging.lastResort``) must not
        # come back here as a new record.
        if not line or getattr(self._emitting, "active", False):
            return
        self._emitting.active = True
        try:
            self._logger.log(self._level, line)
        finally:
            self._emitting.active = False


@dataclass(frozen=True)
class TaskLog:
    """An open try log: where it is written and the masker applied to it."""

    path: Path | None
    masker: SecretsMasker


@contextlib.contextmanager
def capture_task_log(
    path: Path | None,
    *,
    masker: SecretsMasker | None = None,
    echo: bool = False,
    console: TextIO | None = None,
    capture_output: bool = True,
) -> Iterator[TaskLog]:
    """Send the ``tradewind.task`` logger and stdout/stderr to the try's log.

    Args:
        path: the log file (see :func:`task_log_path`); its folders are created and
            it is appended to. None writes no file (``tasks test`` echoing only).
        masker: secrets to mask; a fresh, empty one when None.
        echo: also write each (masked) line to ``console``.
        console: the console stream; the current ``sys.stdout`` when None. It is
            captured before stdout is redirected, so echoing never loops.
        capture_output: redirect ``sys.stdout``/``sys.stderr`` into the log.

    Yields:
        The :class:`TaskLog`; its masker may be given more secrets during the try.
    """
    masker = masker if masker is not None else SecretsMasker()
    formatter = MaskingFormatter(masker)
    logger = logging.getLogger(TASK_LOGGER_NAME)
    handlers: list[logging.Handler] = []
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, mode="a", encoding="utf-8"))
    if echo:
        handlers.append(_ConsoleHandler(console if console is not None else sys.stdout))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.setLevel(logging.INFO)
        logger.addHandler(handler)
    previous_level = logger.level
    # setLevel clears the level caches of every logger in the process (hundreds, with
    # SQLAlchemy's): only when needed. Workers set INFO once, before forking tries.
    raised = logger.getEffectiveLevel() > logging.INFO
    if raised:
        logger.setLevel(logging.INFO)
    stdout = StreamToLogger(logger, logging.INFO)
    stderr = StreamToLogger(logger, logging.WARNING)
    try:
        with contextlib.ExitStack() as stack:
            if capture_output:
                stack.enter_context(contextlib.redirect_stdout(stdout))
                stack.enter_context(contextlib.redirect_stderr(stderr))
            yield TaskLog(path, masker)
            stdout.flush()
            stderr.flush()
    finally:
        if raised:
            logger.setLevel(previous_level)
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()


class _ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Echo to a console stream that must not be closed with the handler."""

    def close(self) -> None:
        self.flush()
        logging.Handler.close(self)
