"""The DAG processor loop: list DAG files, parse the due ones, store what they define.

Tuned by ``[core] dags_folder``, ``load_examples``, ``dag_discovery_safe_mode``,
``dag_ignore_file_syntax``, ``dagbag_import_timeout`` and
``dag_file_processor_memory_limit_mb``, and by ``[scheduler] parsing_processes``
(children at once), ``min_file_process_interval`` (seconds before an unchanged file
is parsed again) and ``dag_dir_list_interval`` (seconds between folder scans in
:meth:`DagFileProcessor.run_forever`; new and deleted files are noticed at a scan).

A file is due when it was never parsed, its modification time changed, or its last
parse is older than ``min_file_process_interval``. A file a user asked to re-parse
(``PUT /api/v1/parseDagFile``, a ``dag_priority_parsing_request`` row) is parsed first
in the next pass, due or not; only files of the current listing are, so a request can
never make the processor import a path outside the DAGs folder. Each parse result is
stored in its own transaction, so a file that fails to store never loses the others'
work.

:func:`collect_dags` is the in-process alternative for the CLI (``dags test``,
``tasks test``, ``dags show``), which needs live DAG objects rather than rows.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tradewind import example_dags
from tradewind.config import CoreSettings, SchedulerSettings
from tradewind.dag_processing.collect import collect_dags as collect_dags
from tradewind.dag_processing.discovery import list_dag_files, source_file
from tradewind.dag_processing.parser import ParseOptions, parse_files
from tradewind.dag_processing.payload import ParseResult
from tradewind.dag_processing.store import deactivate_missing, store_parse_result
from tradewind.storage.engine import transaction
from tradewind.storage.repositories.dag_parsing_requests import (
    has_parsing_requests,
    take_parsing_requests,
)

logger = logging.getLogger(__name__)

#: The folder of the example DAGs shipped with Tradewind (``[core] load_examples``).
EXAMPLE_DAGS_FOLDER = Path(example_dags.__file__).parent


@dataclass(frozen=True)
class ProcessingStats:
    """What one pass over the DAG files did.

    Attributes:
        files: DAG files found (the DAGs folder plus the examples when loaded).
        parsed: files parsed in this pass (the due ones).
        dags: DAGs stored from those files.
        import_errors: parsed files with at least one import error.
        deactivated: DAGs marked inactive because their file is gone.
        seconds: wall-clock duration of the pass.
    """

    files: int
    parsed: int
    dags: int
    import_errors: int
    deactivated: int
    seconds: float


class DagFileProcessor:
    """Keeps the database's DAGs in step with the DAG files.

    Args:
        settings_core: the ``[core]`` section (folder, examples, timeouts, limits).
        settings_scheduler: the ``[scheduler]`` section (intervals, parallelism).
        session_factory: the ``sessionmaker`` of the metadata database; each stored
            result gets its own transaction (``storage.engine.transaction``).
        clock: returns the current aware UTC datetime; injected so that tests can
            freeze time.
    """

    def __init__(
        self,
        settings_core: CoreSettings,
        settings_scheduler: SchedulerSettings,
        session_factory: sessionmaker[Session],
        clock: Callable[[], datetime],
    ) -> None:
        self.core = settings_core
        self.scheduler = settings_scheduler
        self.session_factory = session_factory
        self.clock = clock
        self.processor_subdir = str(Path(settings_core.dags_folder).absolute())
        self._files: list[Path] = []
        self._parsed: dict[Path, tuple[float, datetime]] = {}  # mtime, parse time

    @property
    def options(self) -> ParseOptions:
        folder = str(Path(self.core.dags_folder).absolute())
        return ParseOptions(
            timeout=self.core.dagbag_import_timeout,
            memory_limit_mb=self.core.dag_file_processor_memory_limit_mb,
            safe_mode=self.core.dag_discovery_safe_mode,
            sys_path=(folder,),
        )

    def list_files(self) -> list[Path]:
        """The DAG files of the DAGs folder, then the examples when ``load_examples``."""
        files = self._list(Path(self.core.dags_folder))
        if self.core.load_examples:
            files += self._list(EXAMPLE_DAGS_FOLDER)
        return files

    def _list(self, folder: Path) -> list[Path]:
        return list_dag_files(
            folder,
            safe_mode=self.core.dag_discovery_safe_mode,
            ignore_file_syntax=self.core.dag_ignore_file_syntax,
        )

    def due_files(self, files: list[Path], now: datetime) -> list[Path]:
        """Files never parsed, changed since, or parsed longer ago than the interval."""
        due = []
        for path in files:
            previous = self._parsed.get(path)
            if previous is None or _mtime(path) != previous[0]:
                due.append(path)
            elif (now - previous[1]).total_seconds() >= self.scheduler.min_file_process_interval:
                due.append(path)
        return due

    def process_folder_once(self) -> ProcessingStats:
        """List the files, parse the due ones, store them and deactivate missing files."""
        started = time.monotonic()
        self._files = self.list_files()
        stats = self._process(self._files)
        deactivated = self._deactivate_missing()
        return ProcessingStats(
            files=len(self._files),
            parsed=stats[0],
            dags=stats[1],
            import_errors=stats[2],
            deactivated=deactivated,
            seconds=time.monotonic() - started,
        )

    def run_forever(self, stop_event: threading.Event) -> None:
        """Process until ``stop_event`` is set: rescan every ``dag_dir_list_interval``
        seconds and parse due files in between, waking at least once a second."""
        next_listing = 0.0
        while not stop_event.is_set():
            try:
                if time.monotonic() >= next_listing:
                    stats = self.process_folder_once()
                    next_listing = time.monotonic() + self.scheduler.dag_dir_list_interval
                    logger.info("DAG processing pass: %s", stats)
                else:
                    self._process(self._files)
            except Exception:  # the loop outlives a database hiccup; the next pass retries
                logger.exception("DAG processing pass failed")
            stop_event.wait(min(1.0, max(0.1, self.scheduler.min_file_process_interval)))

    def _process(self, files: list[Path]) -> tuple[int, int, int]:
        now = self.clock()
        existing = [p for p in files if p.exists()]
        requested = self._requested_files(existing)
        due = requested + [p for p in self.due_files(existing, now) if p not in requested]
        # Taken before parsing, so that a change made during the parse is seen next time.
        mtimes = {str(path): _mtime(path) for path in due}
        parallelism = max(1, self.scheduler.parsing_processes)
        dags = errors = 0
        for result in parse_files(due, self.options, parallelism=parallelism):
            self._parsed[Path(result.path)] = (mtimes.get(result.path, -1.0), now)
            stored = self._store(result)
            dags += len(stored.dags)
            errors += 1 if stored.import_errors else 0
            for warning in stored.warnings:
                logger.warning("%s: %s", result.path, warning)
            for fileloc in stored.import_errors:
                logger.info("Import error in %s", fileloc)
        return len(due), dags, errors

    def _requested_files(self, files: list[Path]) -> list[Path]:
        """Take the pending re-parse requests; return those naming one of ``files``.

        A request for any other path (a file deleted since, or never a DAG file) is
        dropped unparsed, as Airflow's processor does.
        """
        with transaction(self.session_factory) as session:
            if not has_parsing_requests(session):
                return []
        with transaction(self.session_factory, sqlite_begin="IMMEDIATE") as session:
            wanted = {str(source_file(fileloc)) for fileloc in take_parsing_requests(session)}
        return [path for path in files if str(path) in wanted]

    def _store(self, result: ParseResult) -> ParseResult:
        """Store one result in its own transaction; return it as stored (duplicates
        found at storage time are added to its import errors)."""
        with transaction(self.session_factory, sqlite_begin="IMMEDIATE") as session:
            return store_parse_result(
                session,
                result,
                now=self.clock(),
                paused_at_creation=self.core.dags_are_paused_at_creation,
                processor_subdir=self.processor_subdir,
                default_max_active_tasks=self.core.max_active_tasks_per_dag,
                default_max_active_runs=self.core.max_active_runs_per_dag,
            )

    def _deactivate_missing(self) -> int:
        alive = {str(p) for p in self._files}
        self._parsed = {p: v for p, v in self._parsed.items() if str(p) in alive}
        with transaction(self.session_factory, sqlite_begin="IMMEDIATE") as session:
            return deactivate_missing(session, alive, self.processor_subdir)


def _mtime(path: Path) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return -1.0
