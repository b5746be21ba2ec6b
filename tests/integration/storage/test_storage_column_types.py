"""UtcDateTime and JSON columns round-trip the same way on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.storage.tables import DagRow, DagRunRow

pytestmark = pytest.mark.db

PARIS_SUMMER = timezone(timedelta(hours=2))


def _dag(session: Session, dag_id: str = "d") -> DagRow:
    dag = DagRow(dag_id=dag_id)
    session.add(dag)
    session.flush()
    return dag


def test_aware_datetime_comes_back_in_utc(session: Session) -> None:
    local = datetime(2024, 6, 1, 14, 30, 15, 123456, tzinfo=PARIS_SUMMER)
    _dag(session).next_dagrun = local
    session.commit()
    session.expire_all()

    loaded = session.scalar(sa.select(DagRow.next_dagrun))

    assert loaded == local
    assert loaded is not None and loaded.tzinfo == UTC
    assert loaded.hour == 12 and loaded.microsecond == 123456


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2024-06-01 12:30:15.123456", datetime(2024, 6, 1, 12, 30, 15, 123456, tzinfo=UTC)),
        ("2024-06-01 12:30:15", datetime(2024, 6, 1, 12, 30, 15, tzinfo=UTC)),
        ("2024-06-01T14:30:15+02:00", datetime(2024, 6, 1, 12, 30, 15, tzinfo=UTC)),
        ("2024-06-01T12:30:15Z", datetime(2024, 6, 1, 12, 30, 15, tzinfo=UTC)),
        ("2024-06-01", datetime(2024, 6, 1, tzinfo=UTC)),
    ],
)
def test_datetime_text_written_by_other_tools_reads_as_utc(
    session: Session, stored: str, expected: datetime
) -> None:
    # On SQLite the column is text; rows written by hand or by another tool must read
    # back as aware UTC datetimes like our own (PostgreSQL parses the text itself).
    _dag(session)
    session.execute(sa.update(DagRow).values(next_dagrun=sa.literal_column(f"'{stored}'")))
    session.commit()
    session.expire_all()

    loaded = session.scalar(sa.select(DagRow.next_dagrun))

    assert loaded == expected
    assert loaded is not None and loaded.tzinfo == UTC
    assert loaded.utcoffset() == timedelta(0)


def test_naive_datetime_is_refused(session: Session) -> None:
    _dag(session).next_dagrun = datetime(2024, 6, 1, 12, 0)
    with pytest.raises(sa.exc.StatementError) as raised:
        session.flush()
    assert isinstance(raised.value.orig, ValueError)
    assert "naive datetime" in str(raised.value.orig)


def test_datetimes_compare_and_sort_in_sql_across_zones(session: Session) -> None:
    _dag(session)
    base = datetime(2024, 1, 1, 12, tzinfo=UTC)
    for index, offset_hours in enumerate([5, -3, 0]):
        zone = timezone(timedelta(hours=offset_hours))
        session.add(
            DagRunRow(
                dag_id="d",
                run_id=f"r{index}",
                run_type="manual",
                logical_date=(base + timedelta(minutes=index)).astimezone(zone),
            )
        )
    session.commit()

    query = sa.select(DagRunRow.run_id).order_by(DagRunRow.logical_date)
    later = sa.select(DagRunRow.run_id).where(DagRunRow.logical_date > base)
    assert list(session.scalars(query)) == ["r0", "r1", "r2"]
    assert set(session.scalars(later)) == {"r1", "r2"}


def test_json_round_trip_and_sql_null(session: Session) -> None:
    _dag(session)
    conf = {"nested": {"list": [1, 2.5, "x", None, True]}, "unicode": "héllo"}
    session.add(
        DagRunRow(dag_id="d", run_id="with_conf", run_type="manual", logical_date=_now(), conf=conf)
    )
    session.add(
        DagRunRow(dag_id="d", run_id="no_conf", run_type="manual", logical_date=_now(1), conf=None)
    )
    session.commit()
    session.expire_all()

    assert session.scalar(sa.select(DagRunRow.conf).where(DagRunRow.run_id == "with_conf")) == conf
    assert session.scalar(sa.select(DagRunRow.run_id).where(DagRunRow.conf.is_(None))) == "no_conf"


def _now(minutes: int = 0) -> datetime:
    return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
