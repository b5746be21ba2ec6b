"""Finding the live DAG object a command works on (``dags test``, ``dags show``, ``tasks ...``).

These commands run user code in the CLI's own process, as Airflow's do. The file
of a DAG the processor has seen is known from the database, so only that file is
imported; otherwise the DAGs folder (and the bundled examples, when
``load_examples``) is scanned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from tradewind.cli.context import get_settings
from tradewind.cli.database import sessions
from tradewind.cli.errors import debug_enabled
from tradewind.dag_processing import collect
from tradewind.dag_processing.discovery import source_file
from tradewind.dag_processing.processor import EXAMPLE_DAGS_FOLDER, collect_dags
from tradewind.errors import NotFound
from tradewind.sdk.dag import DAG
from tradewind.storage.repositories.dags import get_dag


def load_dag(ctx: click.Context, dag_id: str) -> DAG:
    """Import and return the DAG ``dag_id``.

    Raises:
        NotFound: no DAG file defines it; the message lists import errors met on the way.
    """
    with _import_errors_unlogged(ctx):
        return _load_dag(ctx, dag_id)


@contextmanager
def _import_errors_unlogged(ctx: click.Context) -> Iterator[None]:
    """Keep :func:`collect_dags` from logging each broken file's traceback to stderr.

    Another file's import error is none of this command's business when the DAG is
    found, and is summarised in the one ``Error:`` line when it is not; ``--verbose``
    (or ``TRADEWIND_DEBUG=1``) lets the tracebacks through.
    """
    if debug_enabled(ctx):
        yield
        return
    collect.logger.addFilter(_reject)
    try:
        yield
    finally:
        collect.logger.removeFilter(_reject)


def _reject(record: logging.LogRecord) -> bool:
    return False


def _load_dag(ctx: click.Context, dag_id: str) -> DAG:
    settings = get_settings(ctx)
    core = settings.core
    errors: dict[str, str] = {}
    with sessions(ctx)() as session:
        row = get_dag(session, dag_id)
        fileloc = row.fileloc if row is not None else None
    if fileloc and source_file(fileloc).exists():
        found = collect_dags(
            source_file(fileloc),
            safe_mode=False,
            ignore_file_syntax=core.dag_ignore_file_syntax,
            errors=errors,
        )
        if dag_id in found:
            return found[dag_id]
    folders = [Path(core.dags_folder)]
    if core.load_examples:
        folders.append(EXAMPLE_DAGS_FOLDER)
    for folder in folders:
        if not folder.exists():
            continue
        found = collect_dags(
            folder,
            safe_mode=core.dag_discovery_safe_mode,
            ignore_file_syntax=core.dag_ignore_file_syntax,
            errors=errors,
        )
        if dag_id in found:
            return found[dag_id]
    detail = ""
    if errors:
        first_file, first_error = next(iter(errors.items()))
        last_line = first_error.strip().splitlines()[-1] if first_error.strip() else ""
        detail = (
            f" ({len(errors)} file(s) failed to import, e.g. {first_file}: {last_line}; "
            "see tradewind dags list-import-errors)"
        )
    raise NotFound(f"Dag id {dag_id} not found in {core.dags_folder}{detail}")
