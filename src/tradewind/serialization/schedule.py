"""What the API and scheduler read off a DAG's timetable without asking it again.

Airflow 2's API shows a DAG's ``schedule_interval`` as a ``ScheduleInterval``: a
``TimeDelta`` or ``RelativeDelta`` for delta schedules, ``null`` for ``schedule=None``,
and a ``CronExpression`` whose ``value`` is the timetable's summary for everything
else (the cron expression or preset as written, ``@once``, ``@continuous``,
``Dataset``, or a custom timetable's summary). The dataset condition and URIs of a
dataset-triggered DAG are stored beside it so the scheduler can match dataset
events against DAGs with one query instead of decoding every timetable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tradewind.sdk.timetables import (
    DatasetTriggeredTimetable,
    DeltaDataIntervalTimetable,
    NullTimetable,
    Timetable,
)
from tradewind.serialization.encoders import TYPE_KEY, encode_relativedelta, encode_timedelta


@dataclass(frozen=True)
class ScheduleFacts:
    """The JSON-ready schedule fields of a serialized DAG.

    Attributes:
        schedule_interval: the API's ``ScheduleInterval`` dict, or None for manual-only
            DAGs.
        dataset_expression: ``{"all"|"any": [uri | expression, ...]}`` for a
            dataset-triggered DAG, else None.
        dataset_uris: every URI in ``dataset_expression``, in first-mention order.
    """

    schedule_interval: dict[str, Any] | None
    dataset_expression: Any
    dataset_uris: list[str]


def schedule_facts(timetable: Timetable) -> ScheduleFacts:
    """The schedule fields of a DAG with ``timetable``."""
    expression: Any = None
    uris: list[str] = []
    if isinstance(timetable, DatasetTriggeredTimetable):
        expression = timetable.condition
        uris = list(timetable.dataset_uris)
    return ScheduleFacts(schedule_interval_of(timetable), expression, uris)


def schedule_interval_of(timetable: Timetable) -> dict[str, Any] | None:
    """The API's ``ScheduleInterval`` for ``timetable`` (see the module docstring)."""
    if isinstance(timetable, NullTimetable):
        return None
    if isinstance(timetable, DeltaDataIntervalTimetable):
        delta = timetable.delta
        if isinstance(delta, timedelta):
            return encode_timedelta(delta)
        return encode_relativedelta(delta)
    return {TYPE_KEY: "CronExpression", "value": timetable.summary}
