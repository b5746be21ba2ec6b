"""Cron trigger timetable: run *at* each cron tick, as POSIX cron would.

Unlike :class:`~tradewind.sdk.timetables.interval.CronDataIntervalTimetable`, the
run for the 03:00 tick is created at 03:00 (not one period later) and its logical
date is 03:00 minus ``interval``; its data interval is the ``interval`` ending at
the tick (zero-length by default).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from tradewind.sdk.timetables.base import (
    DagRunInfo,
    DataInterval,
    InvalidTimetable,
    TimeRestriction,
    Timetable,
    require_now,
)
from tradewind.sdk.timetables.cron import CronSchedule
from tradewind.sdk.timetables.delta import Delta, check_positive, decode_delta, encode_delta
from tradewind.sdk.timetables.zone import require_aware, timezone_name


class CronTriggerTimetable(Timetable):
    """A run at each tick of a cron expression, covering ``interval`` before the tick.

    Args:
        cron: five-field cron expression or preset (``@daily`` ...).
        timezone: where the cron's wall-clock times are read; results are UTC.
        interval: length of each run's data interval, ending at the tick;
            ``timedelta(0)`` (the default) gives an instant.

    Raises:
        InvalidTimetable: invalid expression or timezone, or a negative interval.
    """

    def __init__(
        self, cron: str, timezone: str | tzinfo = "UTC", interval: Delta = timedelta(0)
    ) -> None:
        self._cron = CronSchedule(cron, timezone)
        # relativedelta != timedelta warns, so test the zero default by type first.
        if not (isinstance(interval, timedelta) and not interval):
            check_positive(interval, "interval")
        self._interval = interval
        self.description = self._cron.describe()

    @property
    def summary(self) -> str:
        return self._cron.written

    @property
    def expression(self) -> str:
        """The cron expression, presets expanded."""
        return self._cron.expression

    @property
    def timezone(self) -> tzinfo:
        return self._cron.timezone

    @property
    def interval(self) -> Delta:
        return self._interval

    def serialize(self) -> dict[str, Any]:
        return {
            "expression": self._cron.written,
            "timezone": timezone_name(self.timezone),
            "interval": encode_delta(self._interval),
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        try:
            expression, zone = data["expression"], data["timezone"]
        except (KeyError, TypeError):
            raise InvalidTimetable(f"Not a serialised cron trigger timetable: {data!r}") from None
        return cls(expression, zone, decode_delta(data.get("interval", 0)))

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        end = require_aware(run_after, "run_after")
        return DataInterval(self._before(end), end)

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        earliest = None
        if restriction.earliest is not None:
            earliest = self._cron.align_next(require_aware(restriction.earliest, "earliest"))
        after_last = None
        if last_automated_data_interval is not None:
            last_end = require_aware(last_automated_data_interval.end, "last interval end")
            after_last = self._cron.next_after(last_end)
        if restriction.catchup:
            tick = after_last if after_last is not None else earliest
            if tick is None:
                return None  # No start date: nowhere to catch up from.
        else:
            # The latest tick at or before now runs at once; older ones are skipped.
            now = require_aware(require_now(restriction, "when catchup is False"), "now")
            candidates = [self._cron.align_prev(now), after_last, earliest]
            tick = max(c for c in candidates if c is not None)
        if restriction.latest is not None and tick > require_aware(restriction.latest, "latest"):
            return None
        return DagRunInfo(run_after=tick, data_interval=DataInterval(self._before(tick), tick))

    def _before(self, tick: datetime) -> datetime:
        return (tick - self._interval).astimezone(UTC)
