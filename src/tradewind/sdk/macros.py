"""The ``macros`` namespace of templates: Airflow 2's helpers, under the same names.

The task runner puts this module in the template context as ``macros``, so
``{{ macros.ds_add(ds, 7) }}`` and ``{{ macros.datetime.now() }}`` work as in Airflow.
Besides the functions below it re-exports ``datetime``, ``timedelta``, ``dateutil``,
``time``, ``uuid``, ``json`` and ``random`` (the function ``random.random``).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from random import random

import dateutil
import dateutil.parser
import dateutil.relativedelta
import dateutil.tz

__all__ = [
    "datetime",
    "datetime_diff_for_humans",
    "dateutil",
    "ds_add",
    "ds_format",
    "json",
    "random",
    "time",
    "timedelta",
    "uuid",
]


def ds_add(ds: str, days: int) -> str:
    """Add (or with a negative number, subtract) ``days`` to a ``YYYY-MM-DD`` date.

    ``ds_add("2015-01-01", 5)`` is ``"2015-01-06"``.

    Raises:
        ValueError: ``ds`` is not a ``YYYY-MM-DD`` date.
    """
    if not days:
        return str(ds)
    moved = datetime.strptime(str(ds), "%Y-%m-%d") + timedelta(days=days)
    return moved.strftime("%Y-%m-%d")


def ds_format(ds: str, input_format: str, output_format: str) -> str:
    """Reformat a date string: ``ds_format("2015-01-01", "%Y-%m-%d", "%m-%d-%y")`` is
    ``"01-01-15"``.

    Raises:
        ValueError: ``ds`` does not match ``input_format``.
    """
    return datetime.strptime(str(ds), input_format).strftime(output_format)


def datetime_diff_for_humans(dt: datetime, since: datetime | None = None) -> str:
    """How far ``dt`` is from ``since``, in words, as pendulum's ``diff_for_humans``.

    With ``since`` the answer is relative (``"1 day before"``, ``"3 hours after"``);
    without it ``dt`` is compared with the current time (``"2 days ago"``,
    ``"in 5 minutes"``). Naive datetimes are taken to be UTC.

    This is the only place in the SDK that reads the clock: a macro is evaluated
    while the task runs, and "now" there means the task's now.
    """
    dt = _aware(dt)
    relative_to_now = since is None
    other = datetime.now(UTC) if since is None else _aware(since)
    later, earlier = (dt, other) if dt > other else (other, dt)
    phrase = _span(dateutil.relativedelta.relativedelta(later, earlier), later - earlier)
    future = dt > other
    if relative_to_now:
        return f"in {phrase}" if future else f"{phrase} ago"
    return f"{phrase} after" if future else f"{phrase} before"


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _span(diff: dateutil.relativedelta.relativedelta, exact: timedelta) -> str:
    """The largest non-zero calendar unit of ``diff``, pendulum-style."""
    units = (
        ("year", diff.years),
        ("month", diff.months),
        ("week", diff.days // 7),
        ("day", diff.days),
        ("hour", diff.hours),
        ("minute", diff.minutes),
    )
    for unit, count in units:
        if count > 0:
            return f"{count} {unit}{'s' if count != 1 else ''}"
    seconds = int(exact.total_seconds())
    if seconds > 10:
        return f"{seconds} seconds"
    return "a few seconds"
