"""Where a request's short reads run: on the event loop for SQLite, in a worker thread
for PostgreSQL.

A hop to a worker thread and back costs more CPU than a page of rows from SQLite (two
thread wake-ups, a future, the GIL handed over twice: ~0.5 ms a hop on a small VM, the
whole server's CPU being 4-8 ms per list request). SQLite is a library in this
process: its reads are CPU work the GIL serialises anyway, and in WAL mode a reader
never waits for a writer, so a read runs no longer on the event loop than in a thread.
PostgreSQL answers over a socket: waiting for it on the event loop would stall every
other request, so there the work still goes to a worker thread.

Only reads qualify (and, on SQLite, only bounded ones: a principal's security
generation, one page of a list). Writes may wait for SQLite's write lock, and password
checks take ~50 ms of argon2 on purpose: both stay in worker threads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from sqlalchemy.engine import Engine

T = TypeVar("T")


def reads_inline(engine: Engine) -> bool:
    """Whether short reads of ``engine`` are cheaper on the event loop (SQLite)."""
    return engine.dialect.name == "sqlite"


async def run_read(inline: bool, work: Callable[[], T]) -> T:
    """``work()``, on the event loop when ``inline`` (see :func:`reads_inline`), else in
    a worker thread."""
    if inline:
        return work()
    return await anyio.to_thread.run_sync(work)
