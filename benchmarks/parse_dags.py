"""How long parsing (and storing) 100 generated DAG files of 10 tasks each takes.

Run with ``python benchmarks/parse_dags.py [--files 100] [--tasks 10]``. It prints:

- parse only: each file imported, validated and serialized in its own child process,
  with 1, 2 (the ``[scheduler] parsing_processes`` default) and one per CPU at once;
- a full first pass of ``DagFileProcessor.process_folder_once`` (parse and store in a
  fresh SQLite database), then a second pass in which nothing is due.

No numbers are asserted anywhere: machines differ; this script is for comparing
changes on one machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tradewind.dag_processing.discovery import list_dag_files
from tradewind.dag_processing.parser import ParseOptions, parse_files

TEMPLATE = """\
from datetime import datetime

from tradewind import DAG
from tradewind.operators.empty import EmptyOperator

with DAG(
    "bench_{index:03d}",
    start_date=datetime(2024, 1, 1),
    schedule="@daily",
    tags=["benchmark"],
) as dag:
    previous = None
    for number in range({tasks}):
        current = EmptyOperator(task_id=f"task_{{number}}")
        if previous is not None:
            previous >> current
        previous = current
"""


def generate(folder: Path, files: int, tasks: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(files):
        text = TEMPLATE.format(index=index, tasks=tasks)
        (folder / f"bench_{index:03d}.py").write_text(text)


def time_parse(paths: list[Path], parallelism: int) -> tuple[float, int, int]:
    started = time.perf_counter()
    dags = errors = 0
    for result in parse_files(paths, ParseOptions(timeout=60.0), parallelism=parallelism):
        dags += len(result.dags)
        errors += bool(result.import_errors)
    return time.perf_counter() - started, dags, errors


def time_processor(folder: Path, home: Path) -> None:
    from tradewind.config import load_settings
    from tradewind.dag_processing.processor import DagFileProcessor
    from tradewind.storage.database import migrate
    from tradewind.storage.engine import create_engine_from_settings, session_factory

    settings = load_settings({}, home=home, write_default_file=False)
    settings = settings.replace("core", dags_folder=folder, load_examples=False)
    engine = create_engine_from_settings(settings.database, fernet_key="")
    try:
        migrate(engine)
        processor = DagFileProcessor(
            settings.core, settings.scheduler, session_factory(engine), lambda: datetime.now(UTC)
        )
        first = processor.process_folder_once()
        print(f"processor, first pass (parse + store, SQLite): {first.seconds:6.2f} s  {first}")
        second = processor.process_folder_once()
        print(f"processor, second pass (nothing due):          {second.seconds:6.2f} s")
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "dags"
        generate(folder, args.files, args.tasks)
        started = time.perf_counter()
        paths = list_dag_files(folder, safe_mode=True)
        print(
            f"{len(paths)} files of {args.tasks} tasks; listing took "
            f"{(time.perf_counter() - started) * 1000:.1f} ms"
        )
        for parallelism in sorted({1, 2, os.cpu_count() or 1}):
            seconds, dags, errors = time_parse(paths, parallelism)
            print(
                f"parse only, {parallelism:2d} at once: {seconds:6.2f} s "
                f"({seconds / len(paths) * 1000:5.1f} ms/file; {dags} DAGs, {errors} errors)"
            )
        time_processor(folder, Path(tmp))


if __name__ == "__main__":
    main()
