"""Schedule deltas (``timedelta`` or ``relativedelta``): checking, describing, JSON form.

The JSON form is Airflow's: a ``timedelta`` is its length in seconds (a number), a
``relativedelta`` a dict of its non-zero fields, with ``weekday`` as ``[day, n]``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from dateutil.relativedelta import relativedelta, weekday

from tradewind.sdk.timetables.base import InvalidTimetable

Delta: TypeAlias = timedelta | relativedelta

#: The fields of a relativedelta, relative ones first, as Airflow's JSON form lists them.
RELATIVEDELTA_FIELDS = (
    "years",
    "months",
    "days",
    "leapdays",
    "hours",
    "minutes",
    "seconds",
    "microseconds",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "microsecond",
)

#: A fixed moment to test whether a relativedelta moves time forward; relativedelta
#: has no length of its own, and a timetable may not ask the clock.
_PROBE = datetime(2000, 1, 31, tzinfo=UTC)


def check_positive(delta: Delta, what: str) -> None:
    """Raise InvalidTimetable unless adding ``delta`` moves time forward.

    Args:
        delta: the delta to check.
        what: how the message names it ("schedule", "interval").
    """
    if not isinstance(delta, timedelta | relativedelta):
        raise InvalidTimetable(f"The {what} must be a timedelta or relativedelta, not {delta!r}")
    if _PROBE + delta <= _PROBE:
        raise InvalidTimetable(f"The {what} must be positive, not {delta!r}")


def describe(delta: Delta) -> str:
    """A sentence for the UI: "Every 6 hours", "Every 1 month"; else ``Every <delta>``."""
    if isinstance(delta, timedelta):
        seconds = int(delta.total_seconds())
        if seconds == delta.total_seconds() and seconds > 0:
            for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
                if seconds % size == 0:
                    count = seconds // size
                    return f"Every {count} {unit}{'s' if count != 1 else ''}"
        return f"Every {delta}"
    values = {name: getattr(delta, name) for name in RELATIVEDELTA_FIELDS}
    used = [name for name, value in values.items() if value]
    if len(used) == 1 and used[0].endswith("s") and delta.weekday is None:
        count = values[used[0]]
        return f"Every {count} {used[0] if count != 1 else used[0][:-1]}"
    return f"Every {delta}"


def encode_delta(delta: Delta) -> float | dict[str, Any]:
    """The JSON form of ``delta``: seconds for a timedelta, a field dict otherwise."""
    if isinstance(delta, timedelta):
        return delta.total_seconds()
    encoded: dict[str, Any] = {
        name: getattr(delta, name) for name in RELATIVEDELTA_FIELDS if getattr(delta, name)
    }
    if delta.weekday is not None:
        encoded["weekday"] = [delta.weekday.weekday, delta.weekday.n]
    return encoded


def decode_delta(data: Any) -> Delta:
    """Invert :func:`encode_delta`.

    Raises:
        InvalidTimetable: ``data`` is neither a number nor a relativedelta field dict.
    """
    if isinstance(data, int | float) and not isinstance(data, bool):
        return timedelta(seconds=data)
    if isinstance(data, dict):
        fields = dict(data)
        day = fields.pop("weekday", None)
        unknown = set(fields) - set(RELATIVEDELTA_FIELDS)
        if not unknown:
            if isinstance(day, list | tuple) and len(day) == 2:
                return relativedelta(**fields, weekday=weekday(day[0], day[1]))
            if day is None:
                return relativedelta(**fields)
    raise InvalidTimetable(f"Not a serialised timedelta or relativedelta: {data!r}")
