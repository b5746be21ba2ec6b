"""run_read: short reads on the event loop for SQLite, in a worker thread otherwise."""

from __future__ import annotations

import threading

import anyio
import sqlalchemy as sa

from tradewind.api.inline_reads import reads_inline, run_read


def test_only_sqlite_reads_inline() -> None:
    assert reads_inline(sa.create_engine("sqlite://"))
    assert not reads_inline(sa.create_engine("postgresql+psycopg://u@localhost/db"))


def test_run_read_runs_on_the_loop_thread_only_when_inline() -> None:
    async def threads() -> tuple[int, int, int]:
        here = threading.get_ident()
        inline = await run_read(True, threading.get_ident)
        hopped = await run_read(False, threading.get_ident)
        return here, inline, hopped

    here, inline, hopped = anyio.run(threads)

    assert inline == here
    assert hopped != here
