"""How much it costs LocalExecutor to start a task try, and how many no-op tries it runs.

Run with ``python benchmarks/executor_overhead.py [--tasks 300] [--parallelism 2]``
against a fresh SQLite database in a temporary folder. It prints:

- one at a time (an idle pool, as in a chain of tasks): the median and p90 of
  queue -> ``task_instance.start_date`` (the try claimed in its forked process),
  queue -> ``running`` event and queue -> final event received by the executor;
- all at once: no-op tries per second, from the first queue to the last event.

No numbers are asserted anywhere: machines differ; this script is for comparing
changes on one machine.
"""

from __future__ import annotations

import argparse
import resource
import select
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings, load_settings
from tradewind.dag_processing.processor import collect_dags
from tradewind.executors.base import TaskEvent, TaskWorkload
from tradewind.executors.local import LocalExecutor
from tradewind.storage.database import migrate
from tradewind.storage.engine import create_engine_from_settings, session_factory, transaction
from tradewind.storage.tables import DagRow, DagRunRow, TaskInstanceRow

DAG_FILE = """\
from datetime import datetime

from tradewind import DAG
from tradewind.operators.empty import EmptyOperator

with DAG("bench_executor", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    EmptyOperator(task_id="noop")
"""


def prepare(home: Path) -> tuple[Settings, sessionmaker[Session], Path]:
    settings = load_settings(
        environ={"TRADEWIND__CORE__LOAD_EXAMPLES": "False"}, home=home, write_default_file=False
    )
    engine = create_engine_from_settings(settings.database, fernet_key="")
    migrate(engine)
    dag_file = home / "dags" / "bench_executor.py"
    dag_file.parent.mkdir(parents=True, exist_ok=True)
    dag_file.write_text(DAG_FILE)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        session.add(DagRow(dag_id="bench_executor", fileloc=str(dag_file), is_active=True))
    return settings, sessions, dag_file


def make_workloads(sessions: sessionmaker[Session], dag_file: Path, count: int) -> list[int]:
    """One DAG run per try, each with a queued ``noop`` task instance; their ids."""
    ids = []
    base = datetime.now(UTC)
    with transaction(sessions) as session:
        for index in range(count):
            run_id = f"bench_{base.timestamp()}_{index}"
            session.add(
                DagRunRow(
                    dag_id="bench_executor",
                    run_id=run_id,
                    run_type="manual",
                    logical_date=base + timedelta(seconds=index),
                    state="running",
                )
            )
            row = TaskInstanceRow(
                dag_id="bench_executor",
                run_id=run_id,
                task_id="noop",
                state="queued",
                try_number=1,
                max_tries=0,
            )
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def workload(sessions: sessionmaker[Session], ti_id: int, dag_file: Path) -> TaskWorkload:
    with sessions() as session:
        row = session.get_one(TaskInstanceRow, ti_id)
        return TaskWorkload(
            ti_id=row.id,
            dag_id=row.dag_id,
            run_id=row.run_id,
            task_id=row.task_id,
            map_index=row.map_index,
            try_number=row.try_number,
            fileloc=str(dag_file),
        )


def wait_for(executor: LocalExecutor, done: int, events: list[TaskEvent]) -> None:
    """Collect events until ``done`` final ones arrived (or 60 s passed)."""
    deadline = time.monotonic() + 60
    fd = executor.wait_fileno()
    while sum(e.state != "running" for e in events) < done and time.monotonic() < deadline:
        select.select([fd] if fd is not None else [], [], [], 0.1)
        events.extend(executor.poll_events())


def one_at_a_time(
    executor: LocalExecutor, sessions: sessionmaker[Session], dag_file: Path, count: int
) -> None:
    to_start, to_running, to_final = [], [], []
    for ti_id in make_workloads(sessions, dag_file, count):
        work = workload(sessions, ti_id, dag_file)
        events: list[TaskEvent] = []
        queued_at = datetime.now(UTC)
        started = time.perf_counter()
        executor.queue(work)
        fd = executor.wait_fileno()
        while not any(e.state != "running" for e in events):
            select.select([fd] if fd is not None else [], [], [], 1.0)
            for event in executor.poll_events():
                if event.state == "running":
                    to_running.append(time.perf_counter() - started)
                events.append(event)
        to_final.append(time.perf_counter() - started)
        with sessions() as session:
            row = session.get_one(TaskInstanceRow, ti_id)
            assert row.start_date is not None and row.state == "success", row.state
            to_start.append((row.start_date - queued_at).total_seconds())
        while executor.open_slots() < executor.parallelism:  # let the worker report its exit
            select.select([fd] if fd is not None else [], [], [], 0.05)
            executor.poll_events()
    for label, values in (
        ("queue -> TI start_date  ", to_start),
        ("queue -> 'running' event", to_running),
        ("queue -> final event    ", to_final),
    ):
        ordered = sorted(values)
        p50 = statistics.median(ordered) * 1000
        p90 = ordered[int(len(ordered) * 0.9)] * 1000
        print(f"one at a time, {label}: p50 {p50:6.2f} ms  p90 {p90:6.2f} ms")


def all_at_once(
    executor: LocalExecutor, sessions: sessionmaker[Session], dag_file: Path, count: int
) -> None:
    works = [workload(sessions, i, dag_file) for i in make_workloads(sessions, dag_file, count)]
    events: list[TaskEvent] = []
    started = time.perf_counter()
    for work in works:
        executor.queue(work)
    wait_for(executor, count, events)
    seconds = time.perf_counter() - started
    final = [e for e in events if e.state != "running"]
    states = {e.state for e in final}
    rate = len(final) / seconds
    print(f"all at once: {len(final)} no-op tries in {seconds:.2f} s = {rate:.0f}/s")
    print(f"  final states: {sorted(states)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=300, help="tries run all at once")
    parser.add_argument("--sequential", type=int, default=50, help="tries run one at a time")
    parser.add_argument("--parallelism", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings, sessions, dag_file = prepare(Path(tmp))
        executor = LocalExecutor(args.parallelism, settings, dag_loader=collect_dags)
        started = time.perf_counter()
        executor.start()
        print(f"start {args.parallelism} workers: {(time.perf_counter() - started) * 1000:.1f} ms")
        try:
            one_at_a_time(executor, sessions, dag_file, args.sequential)
            all_at_once(executor, sessions, dag_file, args.tasks)
        finally:
            executor.end(timeout=10)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        this = resource.getrusage(resource.RUSAGE_SELF)
        tries = args.sequential + args.tasks
        print(
            f"CPU per try: workers and task processes "
            f"{(children.ru_utime + children.ru_stime) / tries * 1000:.1f} ms, "
            f"this process {(this.ru_utime + this.ru_stime) / tries * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
