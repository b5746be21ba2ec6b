"""Requests to re-parse a DAG file now: left by the API, taken by the DAG processor."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from tradewind.storage.repositories._queries import insert_ignoring_conflicts
from tradewind.storage.tables import DagParsingRequestRow


def request_parsing(session: Session, fileloc: str) -> bool:
    """Ask for ``fileloc`` to be parsed on the processor's next pass.

    Idempotent and safe against a concurrent identical request (``ON CONFLICT DO
    NOTHING``), so asking twice is never an error.

    Returns:
        False when the file was already waiting to be parsed.
    """
    values = {"id": DagParsingRequestRow.key_of(fileloc), "fileloc": fileloc}
    statement = insert_ignoring_conflicts(session, DagParsingRequestRow).values(values)
    return bool(cast(CursorResult[Any], session.execute(statement)).rowcount)


def has_parsing_requests(session: Session) -> bool:
    """Whether any file is waiting: a cheap read the processor makes on every pass."""
    return session.scalar(sa.select(DagParsingRequestRow.id).limit(1)) is not None


def take_parsing_requests(session: Session) -> list[str]:
    """Remove every pending request and return the requested filelocs.

    Call in a write transaction: the requests are gone once it commits, so two
    processors never both act on one (the second finds nothing).
    """
    rows = session.scalars(sa.select(DagParsingRequestRow)).all()
    if rows:
        session.execute(
            sa.delete(DagParsingRequestRow).where(
                DagParsingRequestRow.id.in_([row.id for row in rows])
            )
        )
    return sorted(row.fileloc for row in rows)
