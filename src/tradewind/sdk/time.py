"""Datetimes in DAG definitions: everything is stored and compared in UTC.

A naive datetime written in a DAG file (``datetime(2024, 1, 1)``) means UTC, the
default ``[core] default_timezone``; an aware one keeps its instant.
"""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime; naive values are taken to be UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"Expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_datetime(text: str) -> datetime:
    """Parse an ISO 8601 date or datetime (``2024-01-01``, ``...T10:00:00Z``) to UTC.

    Raises:
        ValueError: the text is not an ISO 8601 date or datetime.
    """
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    result = as_utc(value)
    assert result is not None
    return result
