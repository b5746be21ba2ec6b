"""Cron expressions evaluated on a timezone's wall clock, DST included.

croniter only knows naive datetimes, so :class:`CronSchedule` walks the cron ticks
as wall-clock times in the schedule's timezone and turns each into instants:

* a tick that falls in a DST gap (02:30 on the night clocks jump 02:00 -> 03:00)
  runs when the wall clock would have shown it, i.e. one gap later (03:30);
* a tick in the repeated hour when clocks fall back runs at its first occurrence,
  and, for schedules that fire at least once every hour (``*/15 * * * *``), also at
  its second, so an hourly job does not pause for an hour.

Both searches are strict: :meth:`CronSchedule.next_after` is always later than its
argument and :meth:`CronSchedule.prev_before` always earlier, which the data interval
arithmetic of the timetables relies on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from tradewind.sdk.timetables.base import InvalidTimetable
from tradewind.sdk.timetables.zone import parse_timezone

#: Airflow's cron presets. ``@once`` and ``@continuous`` are not crons: they have
#: timetables of their own.
CRON_PRESETS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}

#: How far a DST change can move the wall clock, with room to spare (real changes are
#: one hour, at most two). Offsets in force this far either side of a moment are tried.
_DST_SLACK = timedelta(hours=3)

#: A walk that finds no tick on the right side of a moment in this many steps gives up.
_MAX_CANDIDATES = 100_000

_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


class CronSchedule:
    """The ticks of one cron expression in one timezone.

    Args:
        expression: five-field cron (croniter's six/seven-field forms also work) or a
            key of :data:`CRON_PRESETS`.
        timezone: IANA name, ``"UTC"``, fixed offset or ``tzinfo``.

    Raises:
        InvalidTimetable: the expression is not valid cron, can never fire, or the
            timezone is unknown.
    """

    def __init__(self, expression: str, timezone: str | tzinfo = "UTC") -> None:
        if not isinstance(expression, str):
            raise InvalidTimetable(
                f"A cron schedule must be a string, not {type(expression).__name__}"
            )
        self.written = expression
        self.expression = CRON_PRESETS.get(expression.strip(), expression.strip())
        self.timezone = parse_timezone(timezone)
        # croniter is imported on first use, not with the module: it is a fifth of the
        # cost of `import tradewind`, which every CLI command pays.
        from croniter import CroniterBadCronError, CroniterBadDateError, croniter

        try:
            fields = croniter(self.expression, datetime(2000, 1, 1))
            fields.get_next(datetime)
        except (CroniterBadCronError, CroniterBadDateError, ValueError, KeyError) as exc:
            raise InvalidTimetable(
                f"Invalid cron expression {expression!r}: {str(exc).rstrip('.')}. Use five fields "
                "(minute hour day-of-month month day-of-week) or one of "
                f"{', '.join(CRON_PRESETS)}, @once, @continuous."
            ) from None
        self._every_hour = fields.expanded[1] == ["*"]

    def describe(self) -> str:
        """A sentence for common forms ("At 00:00, only on Sunday"); else the expression."""
        parts = self.expression.split()
        if len(parts) != 5:
            return self.expression
        minute, hour, day, month, weekday = parts
        if not minute.isdigit():
            return self.expression
        if hour == "*":
            when = f"At {int(minute)} minutes past the hour"
        elif hour.isdigit():
            when = f"At {int(hour):02d}:{int(minute):02d}"
        else:
            return self.expression
        if day.isdigit():
            when += f", on day {int(day)} of the month"
        elif day != "*":
            return self.expression
        if weekday.isdigit() and int(weekday) <= 7:
            when += f", only on {_DAYS[int(weekday) % 7]}"
        elif weekday != "*":
            return self.expression
        if month.isdigit() and 1 <= int(month) <= 12:
            when += f", only in {_MONTHS[int(month) - 1]}"
        elif month.startswith("*/") and month[2:].isdigit():
            when += f", every {int(month[2:])} months"
        elif month != "*":
            return self.expression
        return when

    def next_after(self, moment: datetime) -> datetime:
        """The first tick strictly after the aware ``moment``, in UTC."""
        return self._nearest(moment.astimezone(UTC), forward=True)

    def prev_before(self, moment: datetime) -> datetime:
        """The last tick strictly before the aware ``moment``, in UTC."""
        return self._nearest(moment.astimezone(UTC), forward=False)

    def align_next(self, moment: datetime) -> datetime:
        """``moment`` itself if it is a tick, else the next tick."""
        upcoming = self.next_after(moment)
        return moment.astimezone(UTC) if self.prev_before(upcoming) == moment else upcoming

    def align_prev(self, moment: datetime) -> datetime:
        """``moment`` itself if it is a tick, else the previous tick."""
        previous = self.prev_before(moment)
        return moment.astimezone(UTC) if self.next_after(previous) == moment else previous

    def _nearest(self, moment: datetime, *, forward: bool) -> datetime:
        """The tick instant nearest ``moment`` on one side of it.

        Around a DST change ticks are not in the same order in wall-clock time as in
        real time, so the wall-clock ticks are walked once per UTC offset in force
        near ``moment`` (and near the best instant found). Along one walk, a tick
        read with offset ``o`` is at ``tick - o``; the walk stops once that passes
        the best instant, which keeps it to a tick or two.
        """
        tried: set[timedelta] = set()
        best: datetime | None = None
        pending = self._offsets_near(moment)
        while pending - tried:
            offset = min(pending - tried)
            tried.add(offset)
            best = self._walk(moment, offset, best, forward=forward)
            if best is not None:
                pending |= self._offsets_near(best)
        if best is None:
            raise InvalidTimetable(f"Cron expression {self.written!r} never fires near {moment}.")
        return best

    def _walk(
        self, moment: datetime, offset: timedelta, best: datetime | None, *, forward: bool
    ) -> datetime | None:
        from croniter import croniter

        ticks = croniter(self.expression, moment.replace(tzinfo=None) + offset)
        for _ in range(_MAX_CANDIDATES):
            tick = ticks.get_next(datetime) if forward else ticks.get_prev(datetime)
            read = (tick - offset).replace(tzinfo=UTC)
            if best is not None and (read > best if forward else read < best):
                return best
            for instant in self._instants(tick):
                if forward and instant > moment and (best is None or instant < best):
                    best = instant
                if not forward and instant < moment and (best is None or instant > best):
                    best = instant
        return best

    def _offsets_near(self, moment: datetime) -> set[timedelta]:
        found = set()
        for shift in (-_DST_SLACK, timedelta(0), _DST_SLACK):
            offset = (moment + shift).astimezone(self.timezone).utcoffset()
            if offset is not None:
                found.add(offset)
        return found

    def _instants(self, wall: datetime) -> list[datetime]:
        """The UTC instants at which the wall-clock tick ``wall`` fires (see module doc)."""
        first = wall.replace(tzinfo=self.timezone, fold=0)
        second = wall.replace(tzinfo=self.timezone, fold=1)
        if first.utcoffset() == second.utcoffset():
            return [first.astimezone(UTC)]
        if _wall(first, self.timezone) == wall and self._every_hour:  # repeated hour
            return [first.astimezone(UTC), second.astimezone(UTC)]
        # Ambiguous: first occurrence. Gap: fold=0 keeps the pre-change offset, which
        # lands the tick one gap later on the wall clock.
        return [first.astimezone(UTC)]


def _wall(moment: datetime, tz: tzinfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)
