"""Knowing when a standalone group is up: the scheduler's heartbeat, then the API's answer.

A child's "started" line only proves the interpreter ran; a heartbeat written after
standalone started proves the scheduler reached its loop with a working database. The
check reads the database like any other process, so it works before the API exists and
also when the components run elsewhere.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tradewind.errors import DatabaseError
from tradewind.storage.engine import transaction
from tradewind.storage.repositories import jobs
from tradewind.storage.tables import JobRow


def scheduler_heartbeat_since(factory: sessionmaker[Session], since: datetime) -> bool:
    """Whether a running scheduler job has heartbeated at or after ``since`` (UTC)."""
    with transaction(factory) as session:
        found = session.scalar(
            sa.select(JobRow.id)
            .where(
                JobRow.job_type == jobs.SCHEDULER,
                JobRow.state == "running",
                JobRow.latest_heartbeat >= since,
            )
            .limit(1)
        )
    return found is not None


def wait_until(
    check: Callable[[], bool],
    *,
    cancelled: Callable[[], bool],
    interval: float = 0.5,
) -> bool:
    """Call ``check`` every ``interval`` seconds until it returns True or ``cancelled()``.

    A database error counts as "not yet" (SQLite may be busy while the scheduler
    migrates or writes), so the wait survives it.

    Returns:
        True once ``check`` passed; False when cancelled first.
    """
    while not cancelled():
        try:
            if check():
                return True
        except (SQLAlchemyError, DatabaseError):
            pass
        time.sleep(interval)
    return False


def api_answers(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url`` (the API's ``/health``) answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def local_api_url(host: str, port: int) -> str:
    """The base URL of an API server listening on ``host``, as seen from this machine."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
