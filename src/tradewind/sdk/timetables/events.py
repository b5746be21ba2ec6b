"""Events timetable: runs at a fixed list of moments (holidays, launches, ...).

Airflow's ``EventsTimetable``: each run is about one instant from the list; runs are
scheduled in order, each after the previous run's moment, within the DAG's
``start_date``..``end_date``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tradewind.sdk.time import parse_datetime
from tradewind.sdk.timetables.base import (
    DagRunInfo,
    DataInterval,
    InvalidTimetable,
    TimeRestriction,
    Timetable,
)
from tradewind.sdk.timetables.zone import require_aware


class EventsTimetable(Timetable):
    """Runs at each of ``event_dates``.

    Args:
        event_dates: aware datetimes; sorted here, duplicates dropped.
        restrict_to_events: make a manual run's data interval the latest event at
            or before the trigger time (the first event if all are later), instead
            of the trigger time itself.
        description: shown in the UI; defaults to the number of events.

    Raises:
        InvalidTimetable: no events given, or a naive datetime among them.
    """

    periodic = False
    run_ordering = ("logical_date",)

    def __init__(
        self,
        event_dates: Iterable[datetime],
        restrict_to_events: bool = False,
        description: str | None = None,
    ) -> None:
        try:
            dates = {require_aware(date, "event date") for date in event_dates}
        except ValueError as exc:
            raise InvalidTimetable(str(exc)) from None
        if not dates:
            raise InvalidTimetable("EventsTimetable needs at least one event date.")
        self.event_dates = sorted(dates)
        self.restrict_to_events = restrict_to_events
        count = len(self.event_dates)
        self.description = description or f"{count} event{'s' if count != 1 else ''}"

    @property
    def summary(self) -> str:
        return self.description

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        after = None
        if last_automated_data_interval is not None:
            after = require_aware(last_automated_data_interval.end, "last interval end")
        earliest = restriction.earliest
        latest = restriction.latest
        for event in self.event_dates:
            if after is not None and event <= after:
                continue
            if earliest is not None and event < require_aware(earliest, "earliest"):
                continue
            if latest is not None and event > require_aware(latest, "latest"):
                return None
            return DagRunInfo.exact(event)
        return None

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        run_after = require_aware(run_after, "run_after")
        if not self.restrict_to_events:
            return DataInterval.exact(run_after)
        past = [event for event in self.event_dates if event <= run_after]
        return DataInterval.exact(past[-1] if past else self.event_dates[0])

    def serialize(self) -> dict[str, Any]:
        return {
            "event_dates": [event.isoformat() for event in self.event_dates],
            "restrict_to_events": self.restrict_to_events,
            "description": self.description,
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        try:
            dates = [parse_datetime(text) for text in data["event_dates"]]
            return cls(dates, bool(data.get("restrict_to_events")), data.get("description"))
        except (KeyError, TypeError, ValueError):
            raise InvalidTimetable(f"Not a serialised events timetable: {data!r}") from None
