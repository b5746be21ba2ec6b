"""The timetable protocol: how a DAG's schedule tells the scheduler when to run.

A timetable is pure: it receives every moment it needs as an argument (the last
automated run's data interval, the DAG's start and end dates, and the scheduler's
``now``) and answers with plain ``NamedTuple`` values. It never reads the clock,
the environment or the database, so schedules are unit-tested on plain data.

All datetimes passed to a timetable must be timezone-aware; built-in timetables raise
``ValueError`` for naive ones, and always return aware UTC datetimes. (The DAG turns
naive ``start_date``/``end_date`` values into UTC before they reach a timetable.)

Users write their own schedules by subclassing :class:`Timetable` once and
implementing :meth:`~Timetable.infer_manual_data_interval` and
:meth:`~Timetable.next_dagrun_info` (plus ``serialize``/``deserialize`` when the
instance has state), exactly as in Airflow 2.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from tradewind.errors import InvalidInput


class InvalidTimetable(InvalidInput):
    """A schedule that cannot work: a bad cron expression, a non-positive delta,
    an unknown timezone, or a serialised timetable that cannot be rebuilt."""


class DataInterval(NamedTuple):
    """The span of data a DAG run processes: from ``start`` (inclusive) to ``end``.

    Both ends are aware datetimes; ``start == end`` is a run about one instant.
    """

    start: datetime
    end: datetime

    @classmethod
    def exact(cls, at: datetime) -> DataInterval:
        """An interval that starts and ends at ``at``: a run about a single moment."""
        return cls(at, at)


class TimeRestriction(NamedTuple):
    """Limits the DAG puts on automated runs, handed to ``next_dagrun_info``.

    Attributes:
        earliest: no run may have a data interval starting before this (the DAG's
            ``start_date``). None means the DAG has no start date; most
            timetables then schedule nothing.
        latest: no run may start after this (the DAG's ``end_date``). None means
            no end.
        catchup: whether runs missed in the past are created (``True``) or skipped in
            favour of the most recent one (``False``).
        now: the scheduler's current time. Tradewind's addition to Airflow's
            protocol, so timetables never ask the clock: ``catchup=False`` schedules
            and ``@continuous`` need it and raise ``ValueError`` when it is None.
            Timetables written for Airflow simply ignore it.
    """

    earliest: datetime | None
    latest: datetime | None
    catchup: bool
    now: datetime | None = None


class DagRunInfo(NamedTuple):
    """What the scheduler needs to create one automated DAG run.

    Attributes:
        run_after: the earliest moment the run may be created (the end of its data
            interval, for interval-based schedules).
        data_interval: the data the run covers; its ``start`` is the run's
            logical date.
    """

    run_after: datetime
    data_interval: DataInterval

    @classmethod
    def exact(cls, at: datetime) -> DagRunInfo:
        """A run due at ``at`` whose data interval is the single instant ``at``."""
        return cls(run_after=at, data_interval=DataInterval.exact(at))

    @classmethod
    def interval(cls, start: datetime, end: datetime) -> DagRunInfo:
        """A run covering ``start``..``end``, due once the interval has ended."""
        return cls(run_after=end, data_interval=DataInterval(start, end))

    @property
    def logical_date(self) -> datetime:
        """The run's logical date (Airflow's ``execution_date``): its interval's start."""
        return self.data_interval.start


class Timetable:
    """Base class of every schedule; subclass it (once) to write your own.

    Attributes:
        description: a sentence for people, shown in the UI next to ``summary``.
        periodic: whether runs happen on their own at regular times. A DAG with a
            periodic timetable must have a ``start_date``.
        can_be_scheduled: False when the scheduler never needs to call
            ``next_dagrun_info`` (``schedule=None``): runs are only triggered.
        run_ordering: DAG run fields, most significant first, that order this DAG's
            runs in views and when picking which queued run starts next.
        active_runs_limit: the most runs of this DAG that may be active at once,
            whatever ``max_active_runs`` says; None means no limit of its own.

    Equality compares the type and ``serialize()``, which is what makes two
    timetables schedule the same runs.
    """

    description: str = ""
    periodic: bool = True
    can_be_scheduled: bool = True
    run_ordering: tuple[str, ...] = ("data_interval_end", "logical_date")
    active_runs_limit: int | None = None

    @property
    def summary(self) -> str:
        """A short label of the schedule, shown where Airflow shows ``schedule_interval``.

        The cron expression or preset as written for cron schedules; the class name
        unless a subclass says better.
        """
        return type(self).__name__

    def validate(self) -> None:
        """Check the definition once, when the DAG is built; the default accepts all.

        Raises:
            InvalidTimetable: (or another ``InvalidInput``) the schedule cannot work.
        """

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        """The data interval of a run triggered by hand (or by the API) at ``run_after``.

        Args:
            run_after: aware datetime the run was requested for (its logical date
                unless the user gave one).

        Returns:
            The interval the run covers; never None.
        """
        raise NotImplementedError

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        """The next automated run to create after the last one.

        Args:
            last_automated_data_interval: data interval of the latest scheduled (not
                manual) run; None when the DAG has none yet.
            restriction: the DAG's start/end dates, catchup flag and the scheduler's
                current time.

        Returns:
            The next run, or None when this timetable schedules nothing more (no
            start date, past ``end_date``, a one-off schedule that already ran).
            The scheduler creates it once ``run_after`` has passed.
        """
        raise NotImplementedError

    def serialize(self) -> dict[str, Any]:
        """This timetable's state as a JSON-ready dict that ``deserialize`` accepts."""
        return {}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        """Rebuild a timetable from :meth:`serialize` output.

        Raises:
            InvalidTimetable: ``data`` is not something ``serialize`` produced.
        """
        return cls()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timetable):
            return NotImplemented
        return type(self) is type(other) and self.serialize() == other.serialize()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.summary}>"


def require_now(restriction: TimeRestriction, why: str) -> datetime:
    """``restriction.now``, which ``why`` cannot do without.

    Raises:
        ValueError: the caller built the restriction without ``now``.
    """
    if restriction.now is None:
        raise ValueError(f"TimeRestriction.now is required {why}; the scheduler passes it.")
    return restriction.now
