"""Timezones of timetables: parsing what authors write, and naming it back for JSON.

A timetable's timezone decides where wall-clock schedules such as "every day at
02:30" fall; everything a timetable returns is still an aware UTC datetime. Named
zones are ``zoneinfo.ZoneInfo`` so DST follows the IANA database; fixed offsets are
``datetime.timezone``. Other ``tzinfo`` objects (pendulum, pytz, dateutil) are
converted to ``ZoneInfo`` by their IANA name when they carry one, because pytz-style
objects give wrong offsets when attached with ``datetime.replace``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tradewind.sdk.timetables.base import InvalidTimetable

_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$")


def parse_timezone(value: str | int | tzinfo) -> tzinfo:
    """Turn a timezone as written in a DAG (or stored in JSON) into a ``tzinfo``.

    Args:
        value: ``"UTC"``, an IANA name (``"Europe/Amsterdam"``), a fixed offset
            (``"+02:00"``, ``"UTC-05:30"``), an offset in seconds east of UTC (the
            form Airflow serialises fixed offsets in), or a ``tzinfo``.

    Raises:
        InvalidTimetable: the name is not a known IANA zone or offset.
    """
    if isinstance(value, tzinfo):
        return _normalise(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return _fixed(timedelta(seconds=value))
    if not isinstance(value, str):
        raise InvalidTimetable(f"Timezone must be a name or tzinfo, not {type(value).__name__}")
    name = value.strip()
    if name.upper() in {"UTC", "Z", "GMT", "ETC/UTC"}:
        return UTC
    match = _OFFSET.match(name)
    if match:
        sign, hours, minutes = match.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return _fixed(-offset if sign == "-" else offset)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidTimetable(f"Unknown timezone {value!r}: use an IANA name or UTC.") from None


def timezone_name(tz: tzinfo) -> str:
    """The text :func:`parse_timezone` turns back into ``tz``: ``"UTC"``, an IANA name
    or ``"+HH:MM"``."""
    if isinstance(tz, ZoneInfo):
        return tz.key
    offset = tz.utcoffset(None)
    if offset is None:
        raise InvalidTimetable(f"Timezone {tz!r} has no name and no fixed offset.")
    if not offset:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def require_aware(value: datetime, name: str) -> datetime:
    """``value`` in UTC; the timetable protocol never guesses what a naive datetime means.

    Raises:
        ValueError: ``value`` is naive (a caller's bug, not a bad DAG definition).
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


def _fixed(offset: timedelta) -> tzinfo:
    if abs(offset) >= timedelta(hours=24):
        raise InvalidTimetable(f"Timezone offset {offset} is out of range.")
    return UTC if not offset else timezone(offset)


def _normalise(tz: tzinfo) -> tzinfo:
    if isinstance(tz, ZoneInfo) and type(tz) is ZoneInfo:
        return tz
    if tz is UTC or (isinstance(tz, timezone) and not tz.utcoffset(None)):
        return UTC
    if isinstance(tz, timezone):
        return tz
    for attr in ("key", "zone", "name"):
        name = getattr(tz, attr, None)
        if isinstance(name, str) and name:
            try:
                return parse_timezone(name)
            except InvalidTimetable:
                continue
    # An unnamed tzinfo (dateutil's tzlocal, a user class): keep it, it knows its offsets.
    return tz
