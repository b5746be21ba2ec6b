"""Tradewind's scheduling benchmarks: one command, one table.

    python benchmarks/run.py [--backend sqlite|postgresql|both] [--repeat 5] [--only NAMES]

For each backend it starts a real ``tradewind scheduler`` (LocalExecutor,
parallelism 32) on a fresh database with the DAGs of ``benchmarks/dags/``, triggers
runs the way a client does (a committed ``dag_run`` row, then a wake-up), waits for
them and reads the task instances' recorded start and end dates. Figures are medians
over ``--repeat`` runs; the machine is shared and noisy, so compare ratios, not single
numbers. Nothing here is asserted by the test suite.

Scenarios:
- ``chain``: 40 tasks in a chain, each computing ``fib(23)`` (about 10 ms): total time
  (trigger to last end) and the gap between a task's end and the next one's start;
- ``trigger``: a one-task DAG: trigger to task start, and trigger to task end;
- ``wide``: 200 independent no-op Python tasks, and 200 ``BashOperator('true')``: wall
  time and tasks/s;
- ``thousand``: a 1,000-task DAG (10 layers of 100): wall time, scheduler CPU seconds
  per task, peak memory (PSS) of the scheduler and its workers;
- ``standalone``: ``tradewind standalone`` on a fresh home (and database): seconds from
  start to "Tradewind is ready", then the PSS of all its processes and their count
  after ``--idle`` seconds (60 by default) of doing nothing.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from tradewind.config import Settings, load_settings
from tradewind.services.dag_runs import trigger_dag_run
from tradewind.storage.engine import create_engine_from_settings, session_factory, transaction
from tradewind.storage.tables import DagRow, DagRunRow, TaskInstanceRow
from tradewind.storage.wakeup import notify_scheduler

HERE = Path(__file__).resolve().parent
DAGS = HERE / "dags"
POSTGRES_URL = os.environ.get(
    "TRADEWIND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BENCH_DAG_IDS = (
    "bench_chain_40",
    "bench_single",
    "bench_wide_python_200",
    "bench_wide_bash_200",
    "bench_1000",
)


@dataclass
class Figures:
    """Samples per figure name, printed as medians."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.samples.setdefault(name, []).append(value)

    def extend(self, name: str, values: list[float]) -> None:
        self.samples.setdefault(name, []).extend(values)


@dataclass
class Deployment:
    settings: Settings
    scheduler: subprocess.Popen[bytes]
    sessions: sa.orm.sessionmaker[sa.orm.Session]
    engine: sa.Engine


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"tw_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def deployment(url: str | None) -> Iterator[Deployment]:
    """A scheduler subprocess on a fresh home, with every benchmark DAG parsed and unpaused."""
    with tempfile.TemporaryDirectory(prefix="tw-bench-") as home:
        env = {key: value for key, value in os.environ.items() if not key.startswith("TRADEWIND")}
        env.update(
            TRADEWIND_HOME=home,
            TRADEWIND__CORE__DAGS_FOLDER=str(DAGS),
            TRADEWIND__CORE__LOAD_EXAMPLES="False",
            TRADEWIND__CORE__PARALLELISM="32",
            TRADEWIND__CORE__MAX_ACTIVE_TASKS_PER_DAG="32",
            TRADEWIND__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
            TRADEWIND__CORE__EXECUTOR="LocalExecutor",
        )
        if url is not None:
            env["TRADEWIND__DATABASE__SQL_ALCHEMY_CONN"] = url
        settings = load_settings(env, home=Path(home))
        engine = create_engine_from_settings(settings.database, fernet_key=settings.core.fernet_key)
        tradewind = [sys.executable, "-c", "from tradewind.cli.main import main; main()"]
        subprocess.run([*tradewind, "db", "migrate"], env=env, check=True, capture_output=True)
        log = open(Path(home) / "scheduler.log", "wb")  # noqa: SIM115 - closed below
        scheduler = subprocess.Popen(
            [*tradewind, "scheduler"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            sessions = session_factory(engine)
            _wait_for_dags(sessions)
            yield Deployment(settings, scheduler, sessions, engine)
        finally:
            scheduler.send_signal(signal.SIGTERM)
            try:
                scheduler.wait(timeout=30)
            except subprocess.TimeoutExpired:
                scheduler.kill()
                scheduler.wait()
            log.close()
            engine.dispose()


def _wait_for_dags(sessions: Callable[[], sa.orm.Session], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as session:
            found = session.scalars(
                sa.select(DagRow.dag_id).where(DagRow.dag_id.in_(BENCH_DAG_IDS))
            ).all()
        if len(found) == len(BENCH_DAG_IDS):
            return
        time.sleep(0.2)
    raise SystemExit("the scheduler did not parse the benchmark DAGs in time")


def trigger(dep: Deployment, dag_id: str) -> tuple[str, datetime]:
    """Commit a manual run and wake the scheduler; returns (run_id, trigger time)."""
    # IMMEDIATE: it reads, then writes; a deferred transaction would fail at once with
    # "database is locked" whenever a worker commits in between (SQLITE_BUSY_SNAPSHOT).
    with transaction(dep.sessions, sqlite_begin="IMMEDIATE") as session:
        now = datetime.now(UTC)
        run = trigger_dag_run(session, dag_id, now=now, run_id=f"bench_{uuid.uuid4().hex}")
        run_id = run.run_id
    notify_scheduler(dep.settings, dep.engine)
    return run_id, now


def wait_for_run(dep: Deployment, dag_id: str, run_id: str, timeout: float = 600.0) -> str:
    deadline = time.monotonic() + timeout
    query = sa.select(DagRunRow.state).where(DagRunRow.dag_id == dag_id, DagRunRow.run_id == run_id)
    while time.monotonic() < deadline:
        with dep.sessions() as session:
            state = session.scalar(query)
        if state in ("success", "failed"):
            return state
        time.sleep(0.005)
    raise SystemExit(f"run {dag_id}/{run_id} did not finish within {timeout} s")


def task_times(dep: Deployment, dag_id: str, run_id: str) -> list[tuple[str, datetime, datetime]]:
    with dep.sessions() as session:
        rows = session.execute(
            sa.select(TaskInstanceRow.task_id, TaskInstanceRow.start_date, TaskInstanceRow.end_date)
            .where(TaskInstanceRow.dag_id == dag_id, TaskInstanceRow.run_id == run_id)
            .order_by(TaskInstanceRow.task_id)
        ).all()
    return [(task_id, start, end) for task_id, start, end in rows if start and end]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its reaped children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(value) for value in fields[11:13]) / ticks


def tree_pss_mib(pid: int) -> float:
    """Proportional set size of a process and all its descendants, MiB.

    PSS, not RSS: forked workers share most of their pages with their parent, and RSS
    would count each shared page once per process.
    """
    total_kib = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        if int(proc.name) != pid and not _descends(int(proc.name), pid):
            continue
        try:
            for line in (proc / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kib += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total_kib / 1024


def _descends(pid: int, ancestor: int) -> bool:
    while pid > 1:
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid == ancestor:
            return True
    return False


def bench_chain(dep: Deployment, figures: Figures) -> None:
    run_id, started = trigger(dep, "bench_chain_40")
    assert wait_for_run(dep, "bench_chain_40", run_id) == "success"
    times = sorted(task_times(dep, "bench_chain_40", run_id))
    figures.add("chain 40 x 10 ms: total s", (times[-1][2] - started).total_seconds())
    gaps = [
        (nxt[1] - prev[2]).total_seconds() * 1000
        for prev, nxt in zip(times, times[1:], strict=False)
    ]
    figures.extend("chain: end -> next start ms", gaps)


def bench_trigger(dep: Deployment, figures: Figures) -> None:
    run_id, started = trigger(dep, "bench_single")
    assert wait_for_run(dep, "bench_single", run_id) == "success"
    ((_, start, end),) = task_times(dep, "bench_single", run_id)
    figures.add("trigger -> task start ms", (start - started).total_seconds() * 1000)
    figures.add("trigger -> task end ms", (end - started).total_seconds() * 1000)


def bench_wide(dep: Deployment, figures: Figures) -> None:
    for dag_id, label in (("bench_wide_python_200", "python"), ("bench_wide_bash_200", "bash")):
        run_id, started = trigger(dep, dag_id)
        assert wait_for_run(dep, dag_id, run_id) == "success"
        times = task_times(dep, dag_id, run_id)
        wall = (max(end for _, _, end in times) - started).total_seconds()
        figures.add(f"200 {label} no-ops: wall s", wall)
        figures.add(f"200 {label} no-ops: tasks/s", len(times) / wall)


def bench_thousand(dep: Deployment, figures: Figures) -> None:
    cpu_before = cpu_seconds(dep.scheduler.pid)
    run_id, started = trigger(dep, "bench_1000")
    peak = 0.0
    deadline = time.monotonic() + 900
    query = sa.select(DagRunRow.state).where(
        DagRunRow.dag_id == "bench_1000", DagRunRow.run_id == run_id
    )
    while time.monotonic() < deadline:
        peak = max(peak, tree_pss_mib(dep.scheduler.pid))
        with dep.sessions() as session:
            if session.scalar(query) in ("success", "failed"):
                break
        time.sleep(0.25)
    times = task_times(dep, "bench_1000", run_id)
    wall = (max(end for _, _, end in times) - started).total_seconds()
    figures.add("1,000 tasks: wall s", wall)
    figures.add(
        "1,000 tasks: scheduler CPU ms/task",
        (cpu_seconds(dep.scheduler.pid) - cpu_before) / len(times) * 1000,
    )
    figures.add("1,000 tasks: peak PSS MiB (all processes)", peak)


SCENARIOS: dict[str, Callable[[Deployment, Figures], None]] = {
    "trigger": bench_trigger,
    "chain": bench_chain,
    "wide": bench_wide,
    "thousand": bench_thousand,
}


def bench_standalone(url: str | None, figures: Figures, idle: float) -> None:
    """``tradewind standalone`` from start to ready, then idle memory of its whole tree.

    The database is migrated beforehand: this is a start of an existing installation.
    """
    with tempfile.TemporaryDirectory(prefix="tw-bench-standalone-") as home:
        env = {key: value for key, value in os.environ.items() if not key.startswith("TRADEWIND")}
        env.update(
            TRADEWIND_HOME=home,
            TRADEWIND__CORE__LOAD_EXAMPLES="False",
            TRADEWIND__CORE__EXECUTOR="LocalExecutor",
            PYTHONUNBUFFERED="1",
        )
        tradewind = [sys.executable, "-c", "from tradewind.cli.main import main; main()"]
        if url is not None:
            env["TRADEWIND__DATABASE__SQL_ALCHEMY_CONN"] = url
        subprocess.run([*tradewind, "db", "migrate"], env=env, check=True, capture_output=True)
        drain: subprocess.Popen[bytes] | None = None
        started = time.monotonic()
        process = subprocess.Popen(
            [*tradewind, "standalone"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if b"Tradewind is ready" in line:
                    break
            else:
                raise SystemExit("tradewind standalone exited before it was ready")
            figures.add("standalone: start -> ready s", time.monotonic() - started)
            # Keep reading its output, so that it never blocks on a full pipe.
            drain = subprocess.Popen(["cat"], stdin=process.stdout, stdout=subprocess.DEVNULL)
            time.sleep(idle)
            figures.add(f"standalone: idle PSS MiB after {idle:.0f} s", tree_pss_mib(process.pid))
            figures.add("standalone: processes", float(len(_tree(process.pid))))
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            if drain is not None:
                drain.wait()


def _tree(pid: int) -> list[int]:
    return [
        int(proc.name)
        for proc in Path("/proc").iterdir()
        if proc.name.isdigit() and (int(proc.name) == pid or _descends(int(proc.name), pid))
    ]


def run_backend(name: str, repeat: int, only: list[str], idle: float) -> Figures:
    figures = Figures()
    scenarios = [scenario for scenario in only if scenario != "standalone"]
    if "standalone" in only:
        for _ in range(repeat):
            if name == "postgresql":
                with postgres_database() as url:
                    bench_standalone(url, figures, idle)
            else:
                bench_standalone(None, figures, idle)
    if not scenarios:
        return figures
    if name == "postgresql":
        with postgres_database() as url, deployment(url) as dep:
            _run_scenarios(dep, figures, repeat, scenarios)
    else:
        with deployment(None) as dep:
            _run_scenarios(dep, figures, repeat, scenarios)
    return figures


def _run_scenarios(dep: Deployment, figures: Figures, repeat: int, only: list[str]) -> None:
    for scenario in only:
        times = 1 if scenario == "thousand" else repeat
        for _ in range(times):
            SCENARIOS[scenario](dep, figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=5, help="runs per scenario (median)")
    parser.add_argument(
        "--only", default=",".join([*SCENARIOS, "standalone"]), help="comma-separated scenarios"
    )
    parser.add_argument(
        "--idle", type=float, default=60.0, help="seconds standalone idles before its PSS is read"
    )
    args = parser.parse_args()
    only = [name for name in args.only.split(",") if name]
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = {backend: run_backend(backend, args.repeat, only, args.idle) for backend in backends}
    names = list(dict.fromkeys(n for figures in results.values() for n in figures.samples))
    width = max(len(name) for name in names)
    print(f"{'figure (median)':<{width}}  " + "  ".join(f"{b:>12}" for b in backends))
    for name in names:
        cells = []
        for backend in backends:
            values = results[backend].samples.get(name)
            cells.append(f"{statistics.median(values):>12.2f}" if values else f"{'-':>12}")
        print(f"{name:<{width}}  " + "  ".join(cells))


if __name__ == "__main__":
    main()
