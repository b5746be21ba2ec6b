"""Tradewind's REST API benchmarks: one command, one table.

    python benchmarks/api.py [--backend sqlite|postgresql|both] [--only reads,trigger]

``reads``: a fresh database gets ``--dags`` DAGs (1,000), each with ``--runs-per-dag``
finished runs (10) of ``--tasks-per-run`` task instances (10): 100,000 task instances,
inserted directly (``api_seed.py``). A real ``tradewind api-server`` (one worker, Basic
auth, on a free loopback port) then answers ``GET /api/v1/dags?limit=100`` and
``GET /api/v1/dags/~/dagRuns?limit=100``: latency p50/p95 of ``--requests`` sequential
requests from one client (after a warm-up), and requests/s with 8 clients in threads
sending ``--requests`` requests each at once. The load generator shares the machine's
CPUs with the server: on 2 cores, requests/s is a lower bound. ``server CPU
ms/request`` is the CPU the server process spent per sequential request (from /proc):
steadier than wall-clock figures on a shared machine, and what bounds one worker's rate.

``trigger``: a real ``tradewind standalone`` with the DAGs of ``benchmarks/dags/``;
``POST /api/v1/dags/bench_single/dagRuns`` as a client sends it, then the time from
just before the request to the task instance's recorded ``start_date`` (and
``end_date``), median over ``--repeat`` runs, one at a time.

``--backend postgresql`` creates and drops a database on ``$TRADEWIND_TEST_POSTGRES_URL``,
as ``run.py`` does. Nothing here is asserted by the test suite; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import httpx
import sqlalchemy as sa
from api_seed import seed
from run import DAGS, Figures, postgres_database

from tradewind.api.app import prepare_database
from tradewind.config import load_settings
from tradewind.security.users import create_user
from tradewind.storage import database
from tradewind.storage.engine import create_engine_from_settings, session_factory, transaction
from tradewind.storage.tables import TaskInstanceRow

PASSWORD = "benchmark password"
READS = ("/dags?limit=100", "/dags/~/dagRuns?limit=100")
CLIENTS = 8
TRADEWIND = [sys.executable, "-c", "from tradewind.cli.main import main; main()"]
#: Issue 4's targets (on SQLite), shown beside the figures.
TARGETS = {
    **{f"GET {path}: p50 ms": "<= 10" for path in READS},
    **{f"GET {path}: requests/s, {CLIENTS} clients": ">= 300" for path in READS},
    "API trigger -> task start ms": "<= 50",
}
#: Seconds a server may take to answer its first health check.
START_TIMEOUT = 120.0


@dataclass(frozen=True)
class Home:
    """A temporary ``TRADEWIND_HOME``, its environment and its database."""

    path: Path
    env: dict[str, str]
    engine: sa.Engine


@contextmanager
def home(url: str | None, **settings: str) -> Iterator[Home]:
    """A fresh home on database ``url`` (SQLite in the home when None), migrated."""
    with tempfile.TemporaryDirectory(prefix="tw-bench-api-") as path:
        env = {key: value for key, value in os.environ.items() if not key.startswith("TRADEWIND")}
        env |= {
            "TRADEWIND_HOME": path,
            "TRADEWIND__CORE__LOAD_EXAMPLES": "False",
            "TRADEWIND__WEBSERVER__WEB_SERVER_HOST": "127.0.0.1",
            "TRADEWIND__WEBSERVER__WEB_SERVER_PORT": str(free_port()),
            "PYTHONUNBUFFERED": "1",
            **{f"TRADEWIND__{name.upper()}": value for name, value in settings.items()},
        }
        if url is not None:
            env["TRADEWIND__DATABASE__SQL_ALCHEMY_CONN"] = url
        config = load_settings(env, home=Path(path))
        engine = create_engine_from_settings(config.database, fernet_key=config.core.fernet_key)
        database.migrate(engine)
        try:
            yield Home(Path(path), env, engine)
        finally:
            engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_url(where: Home) -> str:
    return f"http://127.0.0.1:{where.env['TRADEWIND__WEBSERVER__WEB_SERVER_PORT']}/api/v1"


@contextmanager
def process(where: Home, *command: str) -> Iterator[subprocess.Popen[bytes]]:
    """``tradewind <command>`` on ``where``; its process group is ended afterwards."""
    started = subprocess.Popen(
        [*TRADEWIND, *command],
        env=where.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield started
    finally:
        started.send_signal(signal.SIGTERM)
        try:
            started.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(started.pid, signal.SIGKILL)
            started.wait()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)


def answers(client: httpx.Client, path: str) -> bool:
    try:
        return client.get(path).status_code == 200
    except httpx.TransportError:
        return False


def bench_reads(url: str | None, figures: Figures, args: argparse.Namespace) -> None:
    with home(url, API__AUTH_BACKENDS="tradewind.api.auth.basic_auth") as where:
        prepare_database(where.engine)
        with transaction(session_factory(where.engine)) as session:
            create_user(session, "bench", PASSWORD, email="bench@example.com", roles=["Admin"])
        seconds = seed(where.engine, args.dags, args.runs_per_dag, args.tasks_per_run)
        figures.add("seed: seconds", seconds)
        task_instances = args.dags * args.runs_per_dag * args.tasks_per_run
        figures.add("seed: task instances", float(task_instances))
        with process(where, "api-server") as server:
            _drain(server)
            root = base_url(where)
            with _client(root) as client:
                wait_until(lambda: answers(client, "/health"), "the API server")
                for path in READS:
                    used = cpu_seconds(server.pid)
                    samples = latencies(client, path, args.requests)
                    used = cpu_seconds(server.pid) - used
                    cuts = statistics.quantiles(samples, n=20)
                    figures.add(f"GET {path}: p50 ms", cuts[9])
                    figures.add(f"GET {path}: p95 ms", cuts[18])
                    requests = args.requests + max(args.requests // 10, 1)
                    figures.add(f"GET {path}: server CPU ms/request", used * 1000 / requests)
            for path in READS:
                figures.add(
                    f"GET {path}: requests/s, {CLIENTS} clients",
                    throughput(root, path, args.requests),
                )


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) process ``pid`` has used, from /proc.

    Wall-clock latency on a shared machine says as much about the neighbours as about
    the server; the CPU a request costs the server is steadier, and bounds what one
    worker can serve (1000 / ms per request, requests/s). 0.0 where /proc is missing.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def latencies(client: httpx.Client, path: str, count: int) -> list[float]:
    """Milliseconds of ``count`` sequential requests, after ``count // 10`` unmeasured."""
    for _ in range(max(count // 10, 1)):
        _ok(client.get(path))
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        _ok(client.get(path))
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def throughput(root: str, path: str, per_client: int) -> float:
    """Requests/s of :data:`CLIENTS` threads each sending ``per_client`` requests at once."""
    ready = threading.Barrier(CLIENTS + 1)

    def one_client() -> None:
        with _client(root) as client:
            _ok(client.get(path))  # connected and authenticated before the clock starts
            ready.wait()
            for _ in range(per_client):
                _ok(client.get(path))

    with ThreadPoolExecutor(CLIENTS) as pool:
        done = [pool.submit(one_client) for _ in range(CLIENTS)]
        ready.wait()
        began = time.perf_counter()
        for each in done:
            each.result()
        elapsed = time.perf_counter() - began
    return CLIENTS * per_client / elapsed


def bench_trigger(url: str | None, figures: Figures, args: argparse.Namespace) -> None:
    settings = {
        "CORE__DAGS_FOLDER": str(DAGS),
        "CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "CORE__EXECUTOR": "LocalExecutor",
    }
    with home(url, **settings) as where, process(where, "standalone") as standalone:
        password = _password_then_ready(standalone)
        _drain(standalone)
        with _client(base_url(where), "admin", password) as client:
            wait_until(lambda: answers(client, "/dags/bench_single"), "bench_single")
            for _ in range(args.repeat):
                began, run_id = datetime.now(UTC), f"api_bench_{uuid.uuid4().hex}"
                _ok(client.post("/dags/bench_single/dagRuns", json={"dag_run_id": run_id}))
                start, end = _task_times(where.engine, run_id)
                figures.add("API trigger -> task start ms", (start - began).total_seconds() * 1e3)
                figures.add("API trigger -> task end ms", (end - began).total_seconds() * 1e3)


def _password_then_ready(standalone: subprocess.Popen[bytes]) -> str:
    assert standalone.stdout is not None
    password = None
    for raw in standalone.stdout:
        line = raw.decode(errors="replace")
        if found := re.search(r"Login with username: admin  password: (\S+)", line):
            password = found.group(1)
        if "Tradewind is ready" in line:
            if password is None:
                raise SystemExit("tradewind standalone printed no admin password")
            return password
    raise SystemExit("tradewind standalone exited before it was ready")


def _task_times(engine: sa.Engine, run_id: str) -> tuple[datetime, datetime]:
    """The start and end of the run's only task instance, polled every 2 ms (30 s at most)."""
    query = sa.select(TaskInstanceRow.start_date, TaskInstanceRow.end_date).where(
        TaskInstanceRow.dag_id == "bench_single", TaskInstanceRow.run_id == run_id
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            row = connection.execute(query).first()
        if row is not None and row.start_date and row.end_date:
            return row.start_date, row.end_date
        time.sleep(0.002)
    raise SystemExit(f"run {run_id} did not finish within 30 s")


def _drain(started: subprocess.Popen[bytes]) -> None:
    """Keep reading ``started``'s output until it ends, so it never blocks on a full pipe."""
    threading.Thread(target=_discard, args=(started.stdout,), daemon=True).start()


def _discard(stream: IO[bytes] | None) -> None:
    """Pass the server's output on to stderr: its warnings and errors explain a failure."""
    for line in stream or ():
        sys.stderr.write(line.decode(errors="replace"))


def _client(root: str, username: str = "bench", password: str = PASSWORD) -> httpx.Client:
    return httpx.Client(base_url=root, auth=(username, password), timeout=60)


def _ok(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{response.request.url}: {response.status_code} {response.text[:300]}")


SCENARIOS: dict[str, Callable[[str | None, Figures, argparse.Namespace], None]] = {
    "reads": bench_reads,
    "trigger": bench_trigger,
}


def run_backend(name: str, only: list[str], args: argparse.Namespace) -> Figures:
    figures = Figures()
    for scenario in only:
        if name == "postgresql":
            with postgres_database() as url:
                SCENARIOS[scenario](url, figures, args)
        else:
            SCENARIOS[scenario](None, figures, args)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    parser.add_argument("--dags", type=int, default=1000)
    parser.add_argument("--runs-per-dag", type=int, default=10)
    parser.add_argument("--tasks-per-run", type=int, default=10)
    parser.add_argument(
        "--requests", type=int, default=200, help="requests per measurement (and per client)"
    )
    parser.add_argument("--repeat", type=int, default=20, help="triggers (median)")
    args = parser.parse_args()
    only = [name for name in args.only.split(",") if name]
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = {backend: run_backend(backend, only, args) for backend in backends}
    for line in table(results):
        print(line)


def table(results: dict[str, Figures]) -> list[str]:
    """One row per figure: issue 4's target, then each backend's median."""
    names = list(dict.fromkeys(n for figures in results.values() for n in figures.samples))
    rows = [["figure", "target", *results]]
    for name in names:
        values = [figures.samples.get(name) for figures in results.values()]
        medians = [f"{statistics.median(v):.2f}" if v else "-" for v in values]
        rows.append([name, TARGETS.get(name, ""), *medians])
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]


if __name__ == "__main__":
    main()
