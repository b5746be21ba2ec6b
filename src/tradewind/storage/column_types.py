"""Column types every table shares: UTC datetimes, JSON, and autoincrement big ids.

``UtcDateTime`` exists because the two backends disagree: PostgreSQL's ``timestamptz``
returns aware datetimes in the session's time zone, while SQLite stores text with no zone
at all. Normalising at the column boundary means the rest of Tradewind only ever sees
aware UTC datetimes, and a naive datetime (whose meaning is a guess) is refused at once
instead of being stored in the wrong zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored and returned in UTC on every backend.

    Raises:
        ValueError: on binding a naive datetime.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UtcDateTime expects a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: attach a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # Stored as text: drop the zone so every value has one format and sorts correctly.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """On SQLite, text straight to an aware datetime in one step.

        SQLAlchemy would parse the text into a naive datetime, then call
        :meth:`process_result_value` to attach the zone: two Python calls per value,
        ~10 % of a 100-run API page. ``fromisoformat`` reads SQLAlchemy's stored format
        (``2024-01-01 00:00:00.000000``) with ``+00:00`` appended, which is what the
        stored text means, in one call: attaching the zone afterwards with
        ``replace(tzinfo=...)`` costs seven times the parse. Text that already carries
        an offset (written by other tools) does not parse with a second one, and is
        read as written, then converted to UTC.
        """
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:
                parsed = parse(value + "+00:00")
            except ValueError:  # text with an offset of its own
                parsed = parse(value)
            if parsed.tzinfo is UTC:
                return parsed
            if parsed.tzinfo is None:  # a date alone ignores the appended offset
                return parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)

        return process


def json_type() -> sa.types.TypeEngine[Any]:
    """JSON on SQLite, JSONB on PostgreSQL (indexable, compact, compared by value).

    ``none_as_null``: a Python ``None`` is stored as SQL NULL, so ``IS NULL`` filters work
    and there is one representation of "no value".
    """
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def big_id() -> sa.types.TypeEngine[int]:
    """BIGINT on PostgreSQL; INTEGER on SQLite, where only that is a rowid alias.

    For the tables that grow without bound (task instances, logs, XComs, events).
    """
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def utcnow() -> datetime:
    """Default of created/updated columns: the database write time, aware UTC."""
    return datetime.now(UTC)
