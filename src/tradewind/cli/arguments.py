"""What several commands read from their arguments and environment: dates, a JSON conf,
who is running the command and when.

Shared by ``cli/dags.py``, ``cli/tasks.py`` and ``cli/backfill.py``, so that every
command words a bad date or conf the same way and none imports another's module.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tradewind.errors import InvalidInput


def parse_date(text: str | None) -> datetime | None:
    """An ISO 8601 date or datetime as aware UTC (naive means UTC); None for None.

    Raises:
        InvalidInput: not ISO 8601, worded for the CLI.
    """
    if text is None:
        return None
    from tradewind.sdk.time import parse_datetime

    try:
        return parse_datetime(text)
    except ValueError:
        raise InvalidInput(
            f"Invalid logical date {text!r}: use ISO 8601, e.g. 2024-01-01 or 2024-01-01T10:00:00Z"
        ) from None


def parse_conf(text: str | None, option: str = "--conf") -> dict[str, Any] | None:
    """The JSON object given to ``option``; errors name that option."""
    if text is None:
        return None
    try:
        conf = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{option} is not valid JSON: {exc}") from None
    if not isinstance(conf, dict):
        raise InvalidInput(f"{option} must be a JSON object, got {type(conf).__name__}")
    return conf


def current_user() -> str | None:
    """The OS user running the command, recorded as the owner of audit-log rows."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers) and no $USER
        return None


def utcnow() -> datetime:
    return datetime.now(UTC)
