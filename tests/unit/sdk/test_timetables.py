"""Timetables on plain data: every schedule kind, catchup, bounds, DST and JSON round trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import FR, relativedelta

from tradewind.errors import InvalidInput
from tradewind.sdk.timetables import (
    ContinuousTimetable,
    CronDataIntervalTimetable,
    CronTriggerTimetable,
    DagRunInfo,
    DataInterval,
    DatasetTriggeredTimetable,
    DeltaDataIntervalTimetable,
    EventsTimetable,
    InvalidTimetable,
    NullTimetable,
    OnceTimetable,
    TimeRestriction,
    Timetable,
    decode_timetable,
    encode_timetable,
    parse_timezone,
    timetable_from_schedule,
)

AMS = ZoneInfo("Europe/Amsterdam")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def runs(
    tt: Timetable,
    count: int,
    *,
    earliest: datetime | None = None,
    latest: datetime | None = None,
    catchup: bool = True,
    now: datetime | None = None,
    last: DataInterval | None = None,
) -> list[DataInterval]:
    """The data intervals of up to ``count`` successive automated runs."""
    restriction = TimeRestriction(earliest, latest, catchup, now)
    found: list[DataInterval] = []
    for _ in range(count):
        info = tt.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None:
            break
        found.append(info.data_interval)
        last = info.data_interval
    return found


# -- base values -------------------------------------------------------------------------


def test_dag_run_info_constructors() -> None:
    info = DagRunInfo.interval(utc(2024, 1, 1), utc(2024, 1, 2))
    assert info.run_after == utc(2024, 1, 2)
    assert info.logical_date == utc(2024, 1, 1)
    assert DagRunInfo.exact(utc(2024, 1, 1)).data_interval == DataInterval.exact(utc(2024, 1, 1))
    assert TimeRestriction(None, None, True).now is None


# -- cron data intervals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "expression", "first"),
    [
        ("@hourly", "0 * * * *", (utc(2024, 1, 1), utc(2024, 1, 1, 1))),
        ("@daily", "0 0 * * *", (utc(2024, 1, 1), utc(2024, 1, 2))),
        ("@midnight", "0 0 * * *", (utc(2024, 1, 1), utc(2024, 1, 2))),
        ("@weekly", "0 0 * * 0", (utc(2024, 1, 7), utc(2024, 1, 14))),
        ("@monthly", "0 0 1 * *", (utc(2024, 1, 1), utc(2024, 2, 1))),
        ("@quarterly", "0 0 1 */3 *", (utc(2024, 1, 1), utc(2024, 4, 1))),
        ("@yearly", "0 0 1 1 *", (utc(2024, 1, 1), utc(2025, 1, 1))),
        ("@annually", "0 0 1 1 *", (utc(2024, 1, 1), utc(2025, 1, 1))),
    ],
)
def test_presets(preset: str, expression: str, first: tuple[datetime, datetime]) -> None:
    tt = timetable_from_schedule(preset)
    assert isinstance(tt, CronDataIntervalTimetable)
    assert tt.summary == preset
    assert tt.expression == expression
    assert runs(tt, 1, earliest=utc(2024, 1, 1)) == [DataInterval(*first)]


def test_descriptions() -> None:
    assert CronDataIntervalTimetable("@daily").description == "At 00:00"
    assert CronDataIntervalTimetable("@hourly").description == "At 0 minutes past the hour"
    assert CronDataIntervalTimetable("@weekly").description == "At 00:00, only on Sunday"
    assert CronDataIntervalTimetable("*/5 * * * 1-5").description == "*/5 * * * 1-5"
    assert DeltaDataIntervalTimetable(timedelta(hours=6)).description == "Every 6 hours"
    assert DeltaDataIntervalTimetable(relativedelta(months=1)).description == "Every 1 month"


def test_cron_catchup_creates_every_interval_from_aligned_start() -> None:
    tt = CronDataIntervalTimetable("0 3 * * *", "UTC")
    found = runs(tt, 3, earliest=utc(2024, 1, 1, 10, 15))
    assert found == [
        DataInterval(utc(2024, 1, 2, 3), utc(2024, 1, 3, 3)),
        DataInterval(utc(2024, 1, 3, 3), utc(2024, 1, 4, 3)),
        DataInterval(utc(2024, 1, 4, 3), utc(2024, 1, 5, 3)),
    ]
    first = tt.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(utc(2024, 1, 1), None, True)
    )
    assert first is not None and first.run_after == utc(2024, 1, 2, 3)


@pytest.mark.parametrize(
    ("now", "expected_start"),
    [
        (utc(2024, 6, 15, 10), utc(2024, 6, 14)),  # between ticks: last complete day
        (utc(2024, 6, 15), utc(2024, 6, 14)),  # on a tick: the day that just ended
    ],
)
def test_cron_no_catchup_starts_at_latest_complete_interval(
    now: datetime, expected_start: datetime
) -> None:
    tt = timetable_from_schedule("@daily")
    found = runs(tt, 1, earliest=utc(2024, 1, 1), catchup=False, now=now)
    assert found == [DataInterval(expected_start, expected_start + timedelta(days=1))]


def test_cron_no_catchup_skips_missed_runs_after_last_and_respects_future_start() -> None:
    tt = timetable_from_schedule("@daily")
    old = DataInterval(utc(2024, 1, 1), utc(2024, 1, 2))
    now = utc(2024, 6, 15, 10)
    assert runs(tt, 1, earliest=utc(2024, 1, 1), catchup=False, now=now, last=old) == [
        DataInterval(utc(2024, 6, 14), utc(2024, 6, 15))
    ]
    assert runs(tt, 1, earliest=utc(2024, 7, 1, 5), catchup=False, now=now) == [
        DataInterval(utc(2024, 7, 2), utc(2024, 7, 3))
    ]
    assert runs(tt, 1, catchup=False, now=now) == [DataInterval(utc(2024, 6, 14), utc(2024, 6, 15))]


def test_no_catchup_without_now_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="TimeRestriction.now"):
        runs(timetable_from_schedule("@daily"), 1, earliest=utc(2024, 1, 1), catchup=False)


def test_cron_start_and_end_bounds() -> None:
    tt = timetable_from_schedule("@daily")
    assert runs(tt, 1) == []  # no start date, catchup: nowhere to begin
    found = runs(tt, 10, earliest=utc(2024, 1, 1), latest=utc(2024, 1, 3))
    assert [interval.start for interval in found] == [utc(2024, 1, d) for d in (1, 2, 3)]
    assert runs(tt, 1, earliest=utc(2024, 2, 1), latest=utc(2024, 1, 1)) == []


def test_cron_realigns_after_schedule_change() -> None:
    tt = timetable_from_schedule("0 6 * * *")
    last = DataInterval(utc(2024, 1, 1), utc(2024, 1, 2))  # from an old @daily schedule
    assert runs(tt, 1, earliest=utc(2023, 1, 1), last=last) == [
        DataInterval(utc(2024, 1, 1, 6), utc(2024, 1, 2, 6))
    ]


def test_cron_in_timezone_returns_utc() -> None:
    tt = CronDataIntervalTimetable("0 9 * * *", "America/New_York")
    (interval,) = runs(tt, 1, earliest=utc(2024, 1, 10))
    assert interval == DataInterval(utc(2024, 1, 10, 14), utc(2024, 1, 11, 14))
    assert interval.start.tzinfo is UTC


def test_dst_spring_forward_daily_0230_amsterdam() -> None:
    tt = CronDataIntervalTimetable("30 2 * * *", "Europe/Amsterdam")
    found = runs(tt, 3, earliest=utc(2024, 3, 30))
    # 02:30 does not exist on 31 March: that run fires at 03:30 CEST (01:30 UTC).
    assert [i.start for i in found] == [
        utc(2024, 3, 30, 1, 30),
        utc(2024, 3, 31, 1, 30),
        utc(2024, 4, 1, 0, 30),
    ]
    assert [i.end - i.start for i in found] == [timedelta(hours=h) for h in (24, 23, 24)]
    assert found[2].start.astimezone(AMS).time() == time(2, 30)


def test_dst_fall_back_daily_0230_amsterdam() -> None:
    tt = CronDataIntervalTimetable("30 2 * * *", "Europe/Amsterdam")
    found = runs(tt, 3, earliest=utc(2024, 10, 26))
    # 02:30 happens twice on 27 October; a daily schedule runs at the first (CEST) one.
    assert [i.start for i in found] == [
        utc(2024, 10, 26, 0, 30),
        utc(2024, 10, 27, 0, 30),
        utc(2024, 10, 28, 1, 30),
    ]
    assert found[1].end - found[1].start == timedelta(hours=25)
    manual = tt.infer_manual_data_interval(run_after=utc(2024, 10, 27, 12))
    assert manual == DataInterval(utc(2024, 10, 26, 0, 30), utc(2024, 10, 27, 0, 30))


def test_dst_sub_hourly_cron_runs_in_both_repeated_hours() -> None:
    tt = CronTriggerTimetable("*/30 * * * *", "Europe/Amsterdam")
    found = runs(tt, 6, earliest=utc(2024, 10, 27, 0))
    step = timedelta(minutes=30)
    assert [i.end for i in found] == [utc(2024, 10, 27) + n * step for n in range(6)]
    spring = runs(tt, 4, earliest=utc(2024, 3, 31, 0, 30))
    assert [i.end for i in spring] == [utc(2024, 3, 31, 0, 30) + n * step for n in range(4)]


def test_cron_manual_data_interval() -> None:
    tt = timetable_from_schedule("@daily")
    expected = DataInterval(utc(2024, 1, 24), utc(2024, 1, 25))
    assert tt.infer_manual_data_interval(run_after=utc(2024, 1, 25, 1)) == expected
    assert tt.infer_manual_data_interval(run_after=utc(2024, 1, 25)) == expected


# -- delta data intervals ----------------------------------------------------------------


def test_timedelta_schedule() -> None:
    tt = timetable_from_schedule(timedelta(hours=6))
    assert isinstance(tt, DeltaDataIntervalTimetable)
    assert tt.summary == "6:00:00"
    found = runs(tt, 2, earliest=utc(2024, 1, 1, 1))
    assert found == [
        DataInterval(utc(2024, 1, 1, 1), utc(2024, 1, 1, 7)),
        DataInterval(utc(2024, 1, 1, 7), utc(2024, 1, 1, 13)),
    ]
    assert runs(tt, 1, earliest=utc(2024, 1, 1), catchup=False, now=utc(2024, 1, 5, 8)) == [
        DataInterval(utc(2024, 1, 5), utc(2024, 1, 5, 6))
    ]
    assert tt.infer_manual_data_interval(run_after=utc(2024, 1, 2)) == DataInterval(
        utc(2024, 1, 1, 18), utc(2024, 1, 2)
    )


def test_relativedelta_month_schedule() -> None:
    tt = timetable_from_schedule(relativedelta(months=1))
    starts = [i.start for i in runs(tt, 4, earliest=utc(2024, 1, 1), latest=utc(2024, 3, 1))]
    assert starts == [utc(2024, 1, 1), utc(2024, 2, 1), utc(2024, 3, 1)]
    assert tt.infer_manual_data_interval(run_after=utc(2024, 3, 15)) == DataInterval(
        utc(2024, 2, 15), utc(2024, 3, 15)
    )


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(hours=-1), relativedelta(months=-1)])
def test_non_positive_delta_rejected(delta: Any) -> None:
    with pytest.raises(InvalidTimetable, match="must be positive"):
        timetable_from_schedule(delta)


# -- trigger, once, continuous, null, events ---------------------------------------------


def test_cron_trigger_runs_at_tick_with_interval() -> None:
    tt = CronTriggerTimetable("0 3 * * *", "UTC", interval=timedelta(hours=1))
    info = tt.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(utc(2024, 1, 1, 4), utc(2024, 1, 3), True),
    )
    assert info == DagRunInfo(
        utc(2024, 1, 2, 3), DataInterval(utc(2024, 1, 2, 2), utc(2024, 1, 2, 3))
    )
    assert len(runs(tt, 5, earliest=utc(2024, 1, 1, 4), latest=utc(2024, 1, 3))) == 1
    now = utc(2024, 5, 5, 10)
    assert runs(tt, 1, earliest=utc(2024, 1, 1), catchup=False, now=now)[0].end == utc(
        2024, 5, 5, 3
    )
    assert tt.infer_manual_data_interval(run_after=now) == DataInterval(
        now - timedelta(hours=1), now
    )


def test_once() -> None:
    tt = timetable_from_schedule("@once")
    assert isinstance(tt, OnceTimetable) and not tt.periodic and tt.summary == "@once"
    assert runs(tt, 5, earliest=utc(2024, 1, 1)) == [DataInterval.exact(utc(2024, 1, 1))]
    assert runs(tt, 5, earliest=utc(2024, 1, 1), catchup=False) == [
        DataInterval.exact(utc(2024, 1, 1))
    ]
    assert runs(tt, 1) == []
    assert runs(tt, 1, earliest=utc(2024, 1, 2), latest=utc(2024, 1, 1)) == []


def test_continuous() -> None:
    tt = timetable_from_schedule("@continuous")
    assert isinstance(tt, ContinuousTimetable) and tt.active_runs_limit == 1
    now = utc(2024, 1, 5)
    assert runs(tt, 1, earliest=utc(2024, 1, 1), now=now) == [DataInterval(utc(2024, 1, 1), now)]
    last = DataInterval(utc(2024, 1, 1), utc(2024, 1, 4))
    assert runs(tt, 1, earliest=utc(2024, 1, 1), now=now, last=last) == [
        DataInterval(utc(2024, 1, 4), now)
    ]
    assert runs(tt, 1, earliest=utc(2024, 1, 1), latest=utc(2024, 1, 2), now=now) == []
    with pytest.raises(ValueError):
        runs(tt, 1, earliest=utc(2024, 1, 1))


def test_null() -> None:
    tt = timetable_from_schedule(None)
    assert isinstance(tt, NullTimetable)
    assert (tt.summary, tt.can_be_scheduled, tt.periodic) == ("None", False, False)
    assert runs(tt, 1, earliest=utc(2024, 1, 1)) == []


def test_events_timetable() -> None:
    dates = [utc(2024, 3, 1), utc(2024, 1, 1), utc(2024, 2, 1)]
    tt = EventsTimetable(dates, restrict_to_events=True)
    assert [i.start for i in runs(tt, 5, earliest=utc(2024, 1, 15))] == dates[2:] + dates[:1]
    assert tt.infer_manual_data_interval(run_after=utc(2024, 2, 10)).start == utc(2024, 2, 1)
    assert tt.infer_manual_data_interval(run_after=utc(2023, 1, 1)).start == utc(2024, 1, 1)


@pytest.mark.parametrize(
    "tt",
    [NullTimetable(), OnceTimetable(), ContinuousTimetable(), DatasetTriggeredTimetable(["a"])],
)
def test_manual_runs_of_instant_timetables_are_exact(tt: Timetable) -> None:
    at = utc(2024, 1, 1, 12)
    assert tt.infer_manual_data_interval(run_after=at) == DataInterval.exact(at)


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        timetable_from_schedule("@daily").infer_manual_data_interval(run_after=datetime(2024, 1, 1))


# -- datasets ----------------------------------------------------------------------------


class FakeDataset:
    def __init__(self, uri: str) -> None:
        self.uri = uri


class FakeCondition:
    def as_expression(self) -> Any:
        return {"any": ["s3://a", {"all": ["s3://b", "s3://c"]}]}


def test_dataset_list_means_all() -> None:
    tt = timetable_from_schedule([FakeDataset("s3://a"), FakeDataset("s3://b")])
    assert isinstance(tt, DatasetTriggeredTimetable)
    assert tt.summary == "Dataset" and tt.description == "Triggered by datasets"
    assert tt.dataset_uris == ["s3://a", "s3://b"]
    assert tt.condition == {"all": ["s3://a", "s3://b"]}
    assert not tt.is_satisfied({"s3://a"}) and tt.is_satisfied({"s3://a", "s3://b"})
    assert runs(tt, 1, earliest=utc(2024, 1, 1)) == []


def test_dataset_condition_and_events() -> None:
    tt = timetable_from_schedule(FakeCondition())
    assert isinstance(tt, DatasetTriggeredTimetable)
    assert tt.dataset_uris == ["s3://a", "s3://b", "s3://c"]
    assert tt.is_satisfied({"s3://a"}) and not tt.is_satisfied({"s3://b"})
    assert tt.is_satisfied({"s3://b", "s3://c"})
    single = timetable_from_schedule(FakeDataset("s3://x"))
    assert single.serialize() == {"dataset_uris": ["s3://x"], "condition": {"all": ["s3://x"]}}
    events = [DataInterval(utc(2024, 1, 2), utc(2024, 1, 3)), DataInterval.exact(utc(2024, 1, 1))]
    assert tt.data_interval_for_events(utc(2024, 1, 5), events) == DataInterval(
        utc(2024, 1, 1), utc(2024, 1, 3)
    )
    assert tt.data_interval_for_events(utc(2024, 1, 5), []) == DataInterval.exact(utc(2024, 1, 5))
    with pytest.raises(InvalidTimetable, match="unlisted"):
        DatasetTriggeredTimetable(["a"], {"any": ["a", "b"]})


# -- errors ------------------------------------------------------------------------------


def test_invalid_cron_names_the_expression() -> None:
    with pytest.raises(InvalidInput, match=r"Invalid cron expression '61 \* \* \* \*'"):
        timetable_from_schedule("61 * * * *")
    with pytest.raises(InvalidTimetable, match="'@fortnightly'"):
        timetable_from_schedule("@fortnightly")
    with pytest.raises(InvalidTimetable, match="'0 0 30 2 \\*'"):
        timetable_from_schedule("0 0 30 2 *")


@pytest.mark.parametrize(("value", "name"), [(42, "int"), (True, "bool"), ({"a": 1}, "dict")])
def test_unsupported_schedule_type_names_the_type(value: Any, name: str) -> None:
    with pytest.raises(InvalidInput, match=f"Unsupported schedule of type {name}"):
        timetable_from_schedule(value)


def test_timezones() -> None:
    assert parse_timezone("UTC") is UTC
    assert parse_timezone("Europe/Amsterdam") == AMS
    assert parse_timezone("+05:30").utcoffset(None) == timedelta(hours=5, minutes=30)
    assert parse_timezone(-3600).utcoffset(None) == timedelta(hours=-1)
    assert parse_timezone(timezone(timedelta(0))) is UTC
    with pytest.raises(InvalidTimetable, match="Unknown timezone 'Mars/Olympus'"):
        timetable_from_schedule("@daily", timezone="Mars/Olympus")


# -- serialization -----------------------------------------------------------------------


class EveryOtherDay(Timetable):
    """A user timetable with state and its own scheduling logic."""

    def __init__(self, hour: int) -> None:
        self.hour = hour

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        return DataInterval(run_after - timedelta(days=2), run_after)

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        if last_automated_data_interval is None:
            if restriction.earliest is None:
                return None
            start = restriction.earliest.replace(hour=self.hour)
        else:
            start = last_automated_data_interval.end
        return DagRunInfo.interval(start, start + timedelta(days=2))

    def serialize(self) -> dict[str, Any]:
        return {"hour": self.hour}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(data["hour"])


BUILT_INS: list[Timetable] = [
    NullTimetable(),
    OnceTimetable(),
    ContinuousTimetable(),
    DatasetTriggeredTimetable.from_datasets(FakeCondition()),
    CronDataIntervalTimetable("@daily", "Europe/Amsterdam"),
    CronDataIntervalTimetable("*/5 * * * *", timezone(timedelta(hours=-3))),
    DeltaDataIntervalTimetable(timedelta(hours=1, seconds=1)),
    DeltaDataIntervalTimetable(relativedelta(months=1, weekday=FR(-1))),
    CronTriggerTimetable("0 3 * * *", "Asia/Tokyo", interval=relativedelta(days=1)),
    EventsTimetable([utc(2024, 1, 1), utc(2024, 6, 1, 12)], description="Launches"),
    EveryOtherDay(hour=7),
]


@pytest.mark.parametrize("tt", BUILT_INS, ids=lambda tt: type(tt).__name__)
def test_round_trip_through_json(tt: Timetable) -> None:
    document = json.loads(json.dumps(encode_timetable(tt)))
    restored = decode_timetable(document)
    assert type(restored) is type(tt)
    assert restored == tt
    assert restored.summary == tt.summary
    restriction = TimeRestriction(utc(2024, 1, 1), None, True, utc(2024, 2, 1))
    assert restored.next_dagrun_info(
        last_automated_data_interval=None, restriction=restriction
    ) == tt.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)


def test_user_timetable_document_and_schedule() -> None:
    tt = timetable_from_schedule(EveryOtherDay(hour=7))
    document = encode_timetable(tt)
    assert document == {"__type": f"{__name__}.EveryOtherDay", "__var": {"hour": 7}}
    restored = decode_timetable(document)
    assert runs(restored, 2, earliest=utc(2024, 1, 1)) == [
        DataInterval(utc(2024, 1, 1, 7), utc(2024, 1, 3, 7)),
        DataInterval(utc(2024, 1, 3, 7), utc(2024, 1, 5, 7)),
    ]


def test_decodes_airflow_class_paths() -> None:
    document = {
        "__type": "airflow.timetables.interval.CronDataIntervalTimetable",
        "__var": {"expression": "0 0 * * *", "timezone": "UTC"},
    }
    assert decode_timetable(document) == CronDataIntervalTimetable("0 0 * * *", "UTC")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"__type": "no_such_module_xyz.Thing", "__var": {}}, "cannot be imported"),
        ({"__type": "datetime.NoSuchClass", "__var": {}}, "not found in module 'datetime'"),
        ({"__type": "datetime.datetime", "__var": {}}, "is not a Timetable subclass"),
        ({"__var": {}}, "Not a serialised timetable"),
        (
            {"__type": "tradewind.sdk.timetables.interval.CronDataIntervalTimetable", "__var": {}},
            "lacks 'expression'",
        ),
        ({"__type": f"{__name__}.EveryOtherDay", "__var": {}}, "deserialize failed"),
    ],
)
def test_decode_errors(document: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidTimetable, match=message):
        decode_timetable(document)


def test_encode_rejects_classes_defined_in_functions() -> None:
    class Local(NullTimetable):
        pass

    with pytest.raises(InvalidTimetable, match="module level"):
        encode_timetable(Local())
