"""Where a REST API read spends its time: statements, in-process CPU, and profiles.

    python benchmarks/api_profile.py [--requests 200] [--path '/dags?limit=100'] [options]

The same seeded database as ``api.py``'s ``reads`` (SQLite in a temporary home), the
same application (``create_api_app``, Basic auth, an Admin user), but driven in-process
by raw ASGI calls: no sockets, no uvicorn, no client, so what is left is the app's own
cost. For each path it prints the SQL statements one request executes (after a warm-up,
so the login is cached), then wall and CPU milliseconds per request over ``--requests``
and the garbage collections they caused. On a shared machine, trust CPU over wall time.

Options:
    --inline    also measure with worker-thread hops made inline (their cost is the gap);
    --sample    a sampling profile (share of samples inside each function, inclusive),
                of the routes' work too (hops made inline): little distortion;
    --profile   cProfile, hops inline: exact call counts, but it inflates code made of
                many small calls (SQLAlchemy, pydantic glue) several-fold;
    --save DIR  write each body to DIR, to compare two versions byte for byte (a
                ``file_token`` differs between runs: each home has its own key);
    --freeze    ``gc.freeze()`` once the app is built.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import gc
import pstats
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
import sqlalchemy as sa
from api_seed import seed

from api import PASSWORD, READS, home
from tradewind.api.app import create_api_app, prepare_database
from tradewind.config import load_settings
from tradewind.security.users import create_user
from tradewind.storage.engine import session_factory, transaction

T = TypeVar("T")


async def call(app: Any, path: str, authorization: str) -> tuple[int, bytes]:
    """One GET of ``path`` (below ``/api/v1``) through the ASGI app: status and body."""
    raw_path, _, query = f"/api/v1{path}".partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"authorization", authorization.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    status = 0
    body = bytearray()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await app(scope, receive, send)
    return status, bytes(body)


async def timed(app: Any, path: str, authorization: str, requests: int) -> str:
    """Wall and CPU (all threads) milliseconds per request over ``requests`` requests."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        await call(app, path, authorization)
    wall = (time.perf_counter() - wall) * 1000 / requests
    cpu = (time.process_time() - cpu) * 1000 / requests
    return f"{wall:.2f} ms wall, {cpu:.2f} ms CPU per request in-process"


def sample(thread_id: int, counts: Counter[str], stop: threading.Event) -> None:
    """Every 0.5 ms, count each function on ``thread_id``'s stack once (key "": samples)."""
    while not stop.wait(0.0005):
        frame = sys._current_frames().get(thread_id)
        seen = set()
        while frame is not None:
            code = frame.f_code
            seen.add(f"{Path(code.co_filename).name}:{code.co_firstlineno}({code.co_name})")
            frame = frame.f_back
        counts.update(seen)
        counts[""] += 1


def seen_by(seen: list[str]) -> Callable[..., None]:
    """A ``before_cursor_execute`` listener appending each statement to ``seen``."""

    def count(*event: Any) -> None:
        seen.append(str(event[2]))

    return count


async def inline(func: Callable[..., T], *args: Any, **_: Any) -> T:
    """``anyio.to_thread.run_sync`` without the thread: the profile sees the work."""
    return func(*args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dags", type=int, default=1000)
    parser.add_argument("--runs-per-dag", type=int, default=10)
    parser.add_argument("--tasks-per-run", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--path", action="append", help="paths to ask (default: api.py's)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--inline", action="store_true", help="measure with thread hops made inline too"
    )
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--freeze", action="store_true", help="gc.freeze() once the app is built")
    parser.add_argument(
        "--sample", action="store_true", help="a sampling profile (inclusive, by function)"
    )
    parser.add_argument("--save", type=Path, help="write each path's body into this folder")
    args = parser.parse_args()
    paths = args.path or list(READS)
    with home(None, API__AUTH_BACKENDS="tradewind.api.auth.basic_auth") as where:
        prepare_database(where.engine)
        with transaction(session_factory(where.engine)) as session:
            create_user(session, "bench", PASSWORD, email="bench@example.com", roles=["Admin"])
        seed(where.engine, args.dags, args.runs_per_dag, args.tasks_per_run)
        settings = load_settings(where.env, home=Path(where.path))
        app = create_api_app(settings, engine=where.engine)
        authorization = "Basic " + base64.b64encode(f"bench:{PASSWORD}".encode()).decode()
        if args.freeze:
            gc.freeze()
        asyncio.run(measure(app, where.engine, paths, authorization, args))


async def measure(
    app: Any, engine: sa.Engine, paths: list[str], authorization: str, args: argparse.Namespace
) -> None:
    for path in paths:
        for _ in range(5):
            status, body = await call(app, path, authorization)
            if status != 200:
                sys.exit(f"{path}: {status} {body[:300]!r}")
        seen: list[str] = []
        count = seen_by(seen)
        sa.event.listen(engine, "before_cursor_execute", count)
        await call(app, path, authorization)
        sa.event.remove(engine, "before_cursor_execute", count)
        print(f"{path}: {len(seen)} statements, {len(body)} bytes")
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / path.replace("/", "_")).write_bytes(body)
        for statement in seen:
            print("   ", " ".join(statement.split())[:150])
        before = [each["collections"] for each in gc.get_stats()]
        print(f"{path}: {await timed(app, path, authorization, args.requests)} (as served)")
        after = [each["collections"] for each in gc.get_stats()]
        runs = [b - a for a, b in zip(before, after, strict=True)]
        print(f"{path}: garbage collections per generation {runs}")
        if args.inline:
            served = anyio.to_thread.run_sync
            anyio.to_thread.run_sync = inline  # type: ignore[assignment]
            figures = await timed(app, path, authorization, args.requests)
            anyio.to_thread.run_sync = served
            print(f"{path}: {figures} (no thread hops)")
    if args.sample:
        anyio.to_thread.run_sync = inline  # type: ignore[assignment]
        # The sampler needs the GIL: without frequent switches it would see mostly the
        # moments the GIL is released (inside SQLite), and pure Python hardly at all.
        sys.setswitchinterval(0.00005)
        for path in paths:
            counts: Counter[str] = Counter()
            stop = threading.Event()
            sampler = threading.Thread(
                target=sample, args=(threading.get_ident(), counts, stop), daemon=True
            )
            sampler.start()
            for _ in range(args.requests):
                await call(app, path, authorization)
            stop.set()
            sampler.join()
            total = counts.pop("", 1)
            print(f"{path}: {total} samples; share of samples in each function (inclusive)")
            for name, hits in counts.most_common(args.top):
                print(f"  {100 * hits / total:5.1f}%  {name}")
    if args.profile:
        anyio.to_thread.run_sync = inline  # type: ignore[assignment]
        profiler = cProfile.Profile()
        for path in paths:
            began = time.perf_counter()
            profiler.enable()
            for _ in range(args.requests):
                await call(app, path, authorization)
            profiler.disable()
            mean = (time.perf_counter() - began) * 1000 / args.requests
            print(f"{path}: {mean:.2f} ms per request inline, profiled")
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
