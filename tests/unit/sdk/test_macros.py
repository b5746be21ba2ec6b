"""The ``macros`` namespace: Airflow's helpers with Airflow's results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradewind.sdk import macros

BASE = datetime(2017, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ds", "days", "expected"),
    [
        ("2015-01-01", 5, "2015-01-06"),
        ("2015-01-02", 0, "2015-01-02"),
        ("2015-01-06", -5, "2015-01-01"),
        ("2024-02-28", 1, "2024-02-29"),
    ],
)
def test_ds_add(ds: str, days: int, expected: str) -> None:
    assert macros.ds_add(ds, days) == expected


def test_ds_add_rejects_a_non_date() -> None:
    with pytest.raises(ValueError):
        macros.ds_add("01/02/2015", 1)


@pytest.mark.parametrize(
    ("ds", "input_format", "output_format", "expected"),
    [
        ("2015-01-02", "%Y-%m-%d", "%m-%d-%y", "01-02-15"),
        ("1/5/2015", "%m/%d/%Y", "%Y-%m-%d", "2015-01-05"),
        ("12/07/2024", "%d/%m/%Y", "%A %d %B %Y", "Friday 12 July 2024"),
    ],
)
def test_ds_format(ds: str, input_format: str, output_format: str, expected: str) -> None:
    assert macros.ds_format(ds, input_format, output_format) == expected


@pytest.mark.parametrize(
    ("dt", "since", "expected"),
    [
        (BASE, BASE + timedelta(days=1), "1 day before"),
        (BASE, BASE - timedelta(days=1), "1 day after"),
        (BASE, BASE - timedelta(hours=3), "3 hours after"),
        (BASE, BASE + timedelta(minutes=1, seconds=30), "1 minute before"),
        (BASE, BASE + timedelta(seconds=30), "30 seconds before"),
        (BASE, BASE + timedelta(seconds=5), "a few seconds before"),
        (BASE, BASE + timedelta(days=15), "2 weeks before"),
        (BASE, datetime(2017, 3, 5, tzinfo=UTC), "2 months before"),
        (BASE, datetime(2019, 6, 1, tzinfo=UTC), "2 years before"),
        (datetime(2017, 1, 2), datetime(2017, 1, 1), "1 day after"),
    ],
)
def test_datetime_diff_for_humans_relative_to_since(
    dt: datetime, since: datetime, expected: str
) -> None:
    assert macros.datetime_diff_for_humans(dt, since) == expected


def test_datetime_diff_for_humans_relative_to_now() -> None:
    now = datetime.now(UTC)
    assert macros.datetime_diff_for_humans(now - timedelta(days=3, hours=1)) == "3 days ago"
    assert macros.datetime_diff_for_humans(now + timedelta(days=3, hours=1)) == "in 3 days"


def test_reexported_modules_are_airflows() -> None:
    import json
    import time
    import uuid
    from random import random

    import dateutil

    assert macros.datetime is datetime
    assert macros.timedelta is timedelta
    assert (macros.dateutil, macros.json, macros.time, macros.uuid) == (dateutil, json, time, uuid)
    assert macros.random is random
    assert macros.dateutil.relativedelta.relativedelta(days=1).days == 1
