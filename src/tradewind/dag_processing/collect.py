"""Importing DAG files in this process: for workers' task processes and CLI commands.

Its own module, importing no database library, because a worker's forker imports it
(see ``tradewind.executors.forker``) and must stay small.
"""

from __future__ import annotations

import logging
import os

from tradewind.dag_processing.discovery import list_dag_files, source_file
from tradewind.dag_processing.importer import LoadedFile, import_dag_file, validate_dags
from tradewind.sdk.dag import DAG

logger = logging.getLogger(__name__)


def collect_dags(
    path_or_folder: str | os.PathLike[str],
    *,
    safe_mode: bool = True,
    ignore_file_syntax: str = "regexp",
    errors: dict[str, str] | None = None,
) -> dict[str, DAG]:
    """Import DAG files in this process and return their validated DAGs by dag_id.

    For the CLI commands that run or draw live DAG objects (``dags test``,
    ``tasks test``, ``dags show``): give the DAG's ``fileloc`` from the database when
    known, else the DAGs folder. Unlike the processor, there is no timeout and no
    memory cap: the user asked for this file to run. Import errors are logged and, when
    ``errors`` is given, recorded in it by file; a dag_id defined by two files keeps
    the first file's DAG in path order.
    """
    found: dict[str, DAG] = {}
    target = source_file(path_or_folder)
    root = target if target.is_dir() else target.parent
    for path in list_dag_files(target, safe_mode=safe_mode, ignore_file_syntax=ignore_file_syntax):
        loaded: LoadedFile = import_dag_file(path, safe_mode=safe_mode, extra_sys_path=[root])
        validate_dags(loaded)
        for fileloc, text in loaded.import_errors.items():
            logger.error("Failed to import %s:\n%s", fileloc, text)
            if errors is not None:
                errors[fileloc] = text
        for dag_id, dag in loaded.dags.items():
            found.setdefault(dag_id, dag)
    return found
