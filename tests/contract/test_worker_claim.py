"""A worker's claim of a try: what it reads back, and surviving a dropped connection.

The claim reads the try's DAG run for the task's context and whether its task updates
datasets (only then does the record look them up). Connections are pinged only after
sitting idle (``storage/idle_ping.py``), so a connection the server dropped a moment
ago fails its first statement; the claim and the record are tried once more then.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from executor_support import DAG_ID, make_try
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import DatabaseSettings
from tradewind.execution.claimed import ClaimedTry
from tradewind.execution.outcome import TryOutcome
from tradewind.execution.worker import claim_workload, record_outcome
from tradewind.executors.base import TaskWorkload
from tradewind.sdk.states import TaskInstanceState
from tradewind.storage.engine import create_engine_from_settings, session_factory, transaction
from tradewind.storage.idle_ping import ping_when_idle
from tradewind.storage.tables import DatasetEventRow, DatasetRow, TaskInstanceRow
from tradewind.storage.tables.dataset import TaskOutletDatasetReferenceRow


def succeed(sessions: sessionmaker[Session], work: TaskWorkload, claimed: ClaimedTry) -> TryOutcome:
    now = datetime.now(UTC)
    outcome = TryOutcome(
        state=TaskInstanceState.SUCCESS, return_value=None, error=None, traceback=None,
        duration=0.0, start_date=claimed.start_date, end_date=now,
    )  # fmt: skip
    assert record_outcome(work, claimed, outcome, sessions=sessions)
    return outcome


def test_a_claim_reads_the_run_and_whether_the_task_updates_datasets(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    plain = make_try(session_factory, tmp_path / "dag.py", "plain")
    producer = make_try(session_factory, tmp_path / "dag.py", "producer")
    with transaction(session_factory) as session:
        dataset = DatasetRow(uri="s3://bucket/produced")
        session.add(dataset)
        session.flush()
        session.add(
            TaskOutletDatasetReferenceRow(dataset_id=dataset.id, dag_id=DAG_ID, task_id="producer")
        )

    claimed_plain = claim_workload(plain, sessions=session_factory)
    claimed_producer = claim_workload(producer, sessions=session_factory)

    assert claimed_plain is not None and claimed_producer is not None
    assert claimed_plain.run_type == "manual" and claimed_plain.run_state == "running"
    assert claimed_plain.logical_date.year == 2024 and claimed_plain.conf == {}
    assert (claimed_plain.has_outlets, claimed_producer.has_outlets) == (False, True)
    succeed(session_factory, plain, claimed_plain)
    succeed(session_factory, producer, claimed_producer)
    with session_factory() as session:
        events = session.scalars(sa.select(DatasetEventRow.source_task_id)).all()
    assert events == ["producer"]


def test_a_claimed_try_is_not_claimed_again(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    work = make_try(session_factory, tmp_path / "dag.py", "t")
    assert claim_workload(work, sessions=session_factory) is not None
    assert claim_workload(work, sessions=session_factory) is None


# -- dropped connections (PostgreSQL: the server can drop one) -------------------------


@pytest.fixture
def own_engine(db_url: str, backend: str) -> Iterator[Engine]:
    """An engine of this test alone (the shared one's connections are not ours to drop)."""
    if backend != "postgresql":
        pytest.skip("only a server can drop a client's connection")
    engine = create_engine_from_settings(DatabaseSettings(sql_alchemy_conn=db_url))
    yield engine
    engine.dispose()


def drop_pooled_connection(engine: Engine, admin: Engine) -> None:
    """Have the server end the connection ``engine`` keeps in its pool."""
    with engine.connect() as connection:
        pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    with admin.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    time.sleep(0.05)  # the backend is gone once the server has processed it


def test_a_connection_used_a_moment_ago_is_not_pinged(own_engine: Engine, engine: Engine) -> None:
    """Proof that no round trip is spent on it: a dropped one fails its first statement."""
    drop_pooled_connection(own_engine, engine)
    with pytest.raises(sa.exc.DBAPIError) as failed, own_engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    assert failed.value.connection_invalidated
    with own_engine.connect() as connection:  # the pool was emptied: a new connection
        assert connection.execute(sa.text("SELECT 1")).scalar_one() == 1


def test_a_connection_idle_past_the_threshold_is_pinged_and_replaced(
    own_engine: Engine, engine: Engine
) -> None:
    pinged = sa.create_engine(own_engine.url)
    ping_when_idle(pinged, idle_seconds=0.01)
    try:
        drop_pooled_connection(pinged, engine)
        with pinged.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar_one() == 1
    finally:
        pinged.dispose()


def test_a_claim_and_a_record_survive_a_connection_dropped_a_moment_before(
    own_engine: Engine, engine: Engine, tmp_path: Path
) -> None:
    sessions = session_factory(own_engine)
    work = make_try(sessions, tmp_path / "dag.py", "t")

    drop_pooled_connection(own_engine, engine)
    claimed = claim_workload(work, sessions=sessions)
    assert claimed is not None
    drop_pooled_connection(own_engine, engine)
    succeed(sessions, work, claimed)

    with sessions() as session:
        assert session.get_one(TaskInstanceRow, work.ti_id).state == "success"
