"""Timetables: when a DAG runs, and which data interval each run covers.

Owns the timetable protocol (``base``), the built-in schedules (``simple``,
``interval``, ``trigger``, ``events``), cron and timezone arithmetic (``cron``,
``zone``, ``delta``) and the mapping from a DAG's ``schedule=`` value and from JSON
(``schedule``). Pure: it may import only the standard library, croniter,
python-dateutil, ``tradewind.errors`` and ``tradewind.sdk.time``; it never reads the
clock, so "now" arrives in ``TimeRestriction.now``.
"""

from __future__ import annotations

from tradewind.sdk.timetables.base import (
    DagRunInfo,
    DataInterval,
    InvalidTimetable,
    TimeRestriction,
    Timetable,
)
from tradewind.sdk.timetables.cron import CRON_PRESETS
from tradewind.sdk.timetables.events import EventsTimetable
from tradewind.sdk.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from tradewind.sdk.timetables.schedule import (
    decode_timetable,
    encode_timetable,
    timetable_from_schedule,
)
from tradewind.sdk.timetables.simple import (
    ContinuousTimetable,
    DatasetTriggeredTimetable,
    NullTimetable,
    OnceTimetable,
)
from tradewind.sdk.timetables.trigger import CronTriggerTimetable
from tradewind.sdk.timetables.zone import parse_timezone

__all__ = [
    "CRON_PRESETS",
    "ContinuousTimetable",
    "CronDataIntervalTimetable",
    "CronTriggerTimetable",
    "DagRunInfo",
    "DataInterval",
    "DatasetTriggeredTimetable",
    "DeltaDataIntervalTimetable",
    "EventsTimetable",
    "InvalidTimetable",
    "NullTimetable",
    "OnceTimetable",
    "TimeRestriction",
    "Timetable",
    "decode_timetable",
    "encode_timetable",
    "parse_timezone",
    "timetable_from_schedule",
]
