"""Data interval timetables: Airflow 2's meaning of a cron string or a timedelta.

Each run covers one interval between two consecutive schedule points and is
created once that interval has ended: with ``@daily`` the run with logical date
Monday 00:00 covers Monday and starts on Tuesday at 00:00.

With ``catchup=True`` every interval from the (aligned) ``start_date`` onwards gets
a run. With ``catchup=False`` the first run is the latest *complete* interval
before ``restriction.now`` (or the first after ``start_date`` if that is later),
and later runs never go back behind it. No interval starting after ``end_date``
(``restriction.latest``) is scheduled.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from dateutil.relativedelta import relativedelta

from tradewind.sdk.timetables.base import (
    DagRunInfo,
    DataInterval,
    InvalidTimetable,
    TimeRestriction,
    Timetable,
    require_now,
)
from tradewind.sdk.timetables.cron import CronSchedule
from tradewind.sdk.timetables.delta import (
    Delta,
    check_positive,
    decode_delta,
    describe,
    encode_delta,
)
from tradewind.sdk.timetables.zone import require_aware, timezone_name


class _DataIntervalTimetable(Timetable):
    """The catchup and bounds logic shared by the cron and delta timetables.

    Subclasses say where schedule points are; this class decides which interval
    comes next. ``_next``/``_prev`` are strict; ``_align_*`` keep a point that is
    already on the schedule.
    """

    def _next(self, moment: datetime) -> datetime:
        raise NotImplementedError

    def _prev(self, moment: datetime) -> datetime:
        raise NotImplementedError

    def _align_next(self, moment: datetime) -> datetime:
        raise NotImplementedError

    def _align_prev(self, moment: datetime) -> datetime:
        raise NotImplementedError

    def _latest_start(self, now: datetime) -> datetime:
        """Start of the latest interval that has ended at ``now``."""
        raise NotImplementedError

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        earliest = _aware_or_none(restriction.earliest, "restriction.earliest")
        latest = _aware_or_none(restriction.latest, "restriction.latest")
        if earliest is not None:
            earliest = self._align_next(earliest)
        if not restriction.catchup:
            now = require_aware(require_now(restriction, "when catchup is False"), "now")
            skip_to = self._latest_start(now)
            earliest = skip_to if earliest is None else max(earliest, skip_to)
        if last_automated_data_interval is None:
            if earliest is None:
                return None  # No start date: nowhere to begin.
            start = earliest
        else:
            last_end = require_aware(last_automated_data_interval.end, "last interval end")
            # Aligning copes with a schedule changed since the last run.
            start = self._align_prev(last_end)
            if earliest is not None:
                start = max(start, earliest)
        if latest is not None and start > latest:
            return None
        return DagRunInfo.interval(start, self._next(start))


class CronDataIntervalTimetable(_DataIntervalTimetable):
    """Intervals between consecutive ticks of a cron expression (``schedule="0 3 * * *"``).

    Args:
        cron: a five-field cron expression or a preset (``@daily``, ``@hourly``, ...);
            not ``@once`` or ``@continuous``, which have timetables of their own.
        timezone: where the cron's wall-clock times are read: ``"UTC"``, an IANA name
            or a ``tzinfo``. DST is followed; results are UTC.

    Raises:
        InvalidTimetable: the expression or timezone is invalid.
    """

    def __init__(self, cron: str, timezone: str | tzinfo = "UTC") -> None:
        self._cron = CronSchedule(cron, timezone)
        self.description = self._cron.describe()

    @property
    def summary(self) -> str:
        return self._cron.written

    @property
    def expression(self) -> str:
        """The cron expression, presets expanded (``@daily`` -> ``0 0 * * *``)."""
        return self._cron.expression

    @property
    def timezone(self) -> tzinfo:
        return self._cron.timezone

    def serialize(self) -> dict[str, Any]:
        return {"expression": self._cron.written, "timezone": timezone_name(self.timezone)}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(_field(data, "expression"), _field(data, "timezone"))

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        # The last complete interval: triggered at 01:00 on the 25th, a daily DAG
        # covers the 24th.
        end = self._align_prev(require_aware(run_after, "run_after"))
        return DataInterval(self._prev(end), end)

    def _next(self, moment: datetime) -> datetime:
        return self._cron.next_after(moment)

    def _prev(self, moment: datetime) -> datetime:
        return self._cron.prev_before(moment)

    def _align_next(self, moment: datetime) -> datetime:
        return self._cron.align_next(moment)

    def _align_prev(self, moment: datetime) -> datetime:
        return self._cron.align_prev(moment)

    def _latest_start(self, now: datetime) -> datetime:
        # On a tick, the interval ending now is complete; between ticks, the one
        # ending at the last tick is.
        return self._prev(self._align_prev(now))


class DeltaDataIntervalTimetable(_DataIntervalTimetable):
    """Back-to-back intervals of a fixed length (``schedule=timedelta(hours=6)``).

    Intervals are chained from ``start_date`` by adding the delta in UTC;
    ``relativedelta(months=1)`` adds calendar months.

    Args:
        delta: a positive ``timedelta`` or ``dateutil.relativedelta.relativedelta``.

    Raises:
        InvalidTimetable: ``delta`` is not a delta; ``validate`` (which
            ``timetable_from_schedule`` calls) also rejects a delta that is not positive.
    """

    def __init__(self, delta: Delta) -> None:
        if not isinstance(delta, timedelta | relativedelta):
            raise InvalidTimetable(
                f"A delta schedule must be a timedelta or relativedelta, not {type(delta).__name__}"
            )
        self._delta = delta
        self.description = describe(delta)

    @property
    def delta(self) -> Delta:
        return self._delta

    @property
    def summary(self) -> str:
        return str(self._delta)

    def validate(self) -> None:
        check_positive(self._delta, "schedule interval")

    def serialize(self) -> dict[str, Any]:
        return {"delta": encode_delta(self._delta)}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(decode_delta(_field(data, "delta")))

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        end = require_aware(run_after, "run_after")
        return DataInterval(self._prev(end), end)

    def _next(self, moment: datetime) -> datetime:
        return (moment + self._delta).astimezone(UTC)

    def _prev(self, moment: datetime) -> datetime:
        return (moment - self._delta).astimezone(UTC)

    def _align_next(self, moment: datetime) -> datetime:
        return moment.astimezone(UTC)

    def _align_prev(self, moment: datetime) -> datetime:
        return moment.astimezone(UTC)

    def _latest_start(self, now: datetime) -> datetime:
        # As Airflow: round ``now`` down to a multiple of the delta since the epoch,
        # then step back one interval so the chosen interval has ended.
        return self._prev(_round_down(now, _approx_seconds(self._delta)))


def _round_down(moment: datetime, step: float) -> datetime:
    epoch = moment.timestamp()
    return datetime.fromtimestamp(epoch - epoch % step, tz=UTC)


def _approx_seconds(delta: Delta) -> float:
    if isinstance(delta, timedelta):
        return delta.total_seconds()
    days = delta.years * 365 + delta.months * 30 + delta.days
    seconds = ((days * 24 + delta.hours) * 60 + delta.minutes) * 60 + delta.seconds
    return float(seconds) or 1.0


def _aware_or_none(value: datetime | None, name: str) -> datetime | None:
    return None if value is None else require_aware(value, name)


def _field(data: dict[str, Any], key: str) -> Any:
    try:
        return data[key]
    except (KeyError, TypeError):
        raise InvalidTimetable(f"Serialised timetable lacks {key!r}: {data!r}") from None
