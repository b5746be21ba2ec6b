"""Where the log of each try lives, in Airflow's folder layout.

Its own module, importing nothing but ``pathlib``, because both sides need it: the
task process that writes a log (which imports no database library, see
``tradewind.executors.task_process``) and the API that reads one back
(:mod:`tradewind.services.task_logs`).
"""

from __future__ import annotations

from pathlib import Path


def task_log_path(
    base_log_folder: Path | str,
    *,
    dag_id: str,
    run_id: str,
    task_id: str,
    try_number: int,
    map_index: int = -1,
) -> Path:
    """Where the log of one try lives; the ``map_index=`` folder only for mapped tasks."""
    path = Path(base_log_folder) / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    if map_index >= 0:
        path = path / f"map_index={map_index}"
    return path / f"attempt={try_number}.log"
