"""Dataset-triggered runs: a DAG scheduled on datasets runs once their updates are queued.

A dataset update (``tradewind.services.datasets``) queues a ``dataset_dag_run_queue``
row per active, unpaused DAG scheduled on the dataset. Each tick,
:func:`create_dataset_triggered_runs` (called by the loop in the tick's transaction,
before the snapshot, so the new run starts in the same tick) does what Airflow 2.10's
scheduler does:

* a DAG is *ready* when the URIs it has queued satisfy its timetable's condition:
  every dataset for ``schedule=[a, b]``, ``a | b`` and ``a & b`` as written;
  paused or inactive DAGs are left alone, their queue kept until they are unpaused;
  a DAG already at ``max_active_runs`` (queued and running runs) waits;
* a ready DAG gets one ``queued`` run of type ``dataset_triggered``, logical date the
  latest queued time (moved on by a microsecond while another run of the DAG holds
  that date, which only a frozen clock can cause), run_id
  ``dataset_triggered__<logical date>``;
* the run is linked (``dagrun_dataset_event``) to the events it consumes: those of
  the DAG's datasets up to its logical date and since the DAG's previous
  dataset-triggered run, not already consumed by another run of the DAG; its data
  interval spans them (each event counts as its producing run's data interval, or
  as its timestamp when it came from outside a run);
* the queue rows it read are deleted in the same transaction. An update queued by a
  concurrent writer for another dataset meanwhile is kept for the next run.

Two schedulers reaching the same DAG compute the same logical date; the run insert
ignores the conflict, and the loser changes nothing. The steady state (empty queue)
costs one query per tick.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from tradewind.scheduler.snapshot import DagCache
from tradewind.sdk.states import DagRunType
from tradewind.sdk.timetables import DataInterval, DatasetTriggeredTimetable
from tradewind.storage.repositories._queries import insert_ignoring_conflicts
from tradewind.storage.repositories.datasets import (
    link_events_to_run,
)
from tradewind.storage.tables import (
    DagRow,
    DagRunRow,
    DagScheduleDatasetReferenceRow,
    DatasetDagRunQueueRow,
    DatasetEventRow,
    DatasetRow,
    SerializedDagRow,
    dagrun_dataset_event,
)

logger = logging.getLogger(__name__)

_QUEUE = DatasetDagRunQueueRow
_ACTIVE_RUN_STATES = ("queued", "running")
_DATASET_TRIGGERED = DagRunType.DATASET_TRIGGERED.value
#: How far a logical date moves when another run of the DAG already holds it.
_NUDGE = timedelta(microseconds=1)


@dataclass
class _Candidate:
    """A DAG with queued updates, as read in this tick."""

    dag_id: str
    dag_hash: str
    max_active_runs: int | None
    active_runs: int
    queued: dict[str, tuple[int, datetime]]  # uri -> (dataset_id, queued at)


def create_dataset_triggered_runs(
    session: Session,
    *,
    now: datetime,
    dag_cache: DagCache,
    job_id: int | None,
    default_max_active_runs: int,
) -> int:
    """Create the runs of the DAGs whose queued dataset updates are complete.

    Args:
        now: aware UTC instant, the new runs' ``queued_at``.
        dag_cache: the loop's deserialized DAGs (their timetables hold the condition).
        job_id: the scheduler's job, recorded as ``creating_job_id``.
        default_max_active_runs: ``[core] max_active_runs_per_dag``, for DAGs that
            set none.

    Returns:
        How many runs were created.
    """
    candidates = _read_candidates(session)
    if not candidates:
        return 0
    dag_cache.load_missing(session, {c.dag_id: c.dag_hash for c in candidates})
    created = 0
    for candidate in candidates:
        timetable = _dataset_timetable(dag_cache, candidate)
        if timetable is None or not timetable.is_satisfied(candidate.queued):
            continue
        cached = dag_cache.get(candidate.dag_id)
        limit = (
            candidate.max_active_runs
            or (cached.dag.max_active_runs if cached else None)
            or default_max_active_runs
        )
        if candidate.active_runs >= limit:
            continue
        if _create_run(session, candidate, timetable, now=now, job_id=job_id):
            created += 1
    return created


# Built once: every tick runs it, and building a statement costs more than running it.
_QUEUED_UPDATES = (
    sa.select(_QUEUE.target_dag_id, DatasetRow.uri, _QUEUE.dataset_id, _QUEUE.created_at)
    .join(DatasetRow, DatasetRow.id == _QUEUE.dataset_id)
    .join(DagRow, DagRow.dag_id == _QUEUE.target_dag_id)
    .where(DagRow.is_active, sa.not_(DagRow.is_paused))
)


def _read_candidates(session: Session) -> list[_Candidate]:
    """Active, unpaused DAGs with queued updates: one query, then one per such DAG set."""
    rows = session.execute(_QUEUED_UPDATES).all()
    if not rows:
        return []
    queued: defaultdict[str, dict[str, tuple[int, datetime]]] = defaultdict(dict)
    for dag_id, uri, dataset_id, created_at in rows:
        queued[dag_id][uri] = (dataset_id, created_at)
    active = (
        sa.select(sa.func.count())
        .where(DagRunRow.dag_id == DagRow.dag_id, DagRunRow.state.in_(_ACTIVE_RUN_STATES))
        .correlate(DagRow)
        .scalar_subquery()
    )
    dags = session.execute(
        sa.select(DagRow.dag_id, SerializedDagRow.dag_hash, DagRow.max_active_runs, active)
        .join(SerializedDagRow, SerializedDagRow.dag_id == DagRow.dag_id)
        .where(DagRow.dag_id.in_(list(queued)))
        .order_by(DagRow.dag_id)
    ).all()
    return [
        _Candidate(dag_id, dag_hash, max_runs, int(count), queued[dag_id])
        for dag_id, dag_hash, max_runs, count in dags
    ]


def _dataset_timetable(
    dag_cache: DagCache, candidate: _Candidate
) -> DatasetTriggeredTimetable | None:
    cached = dag_cache.get(candidate.dag_id)
    if cached is None or cached.dag_hash != candidate.dag_hash:
        return None  # unreadable: the cache logged why
    try:
        timetable = cached.dag.timetable
    except Exception as exc:  # a stored document this version cannot rebuild
        logger.error("DAG %s: cannot load its timetable: %s", candidate.dag_id, exc)
        return None
    if not isinstance(timetable, DatasetTriggeredTimetable):
        return None  # no longer dataset-scheduled: its stale queue waits (as Airflow)
    return timetable


def _create_run(
    session: Session,
    candidate: _Candidate,
    timetable: DatasetTriggeredTimetable,
    *,
    now: datetime,
    job_id: int | None,
) -> bool:
    """Create the run, link its events and consume the queue; False if another
    scheduler created it first (then nothing changed here)."""
    dag_id = candidate.dag_id
    logical_date = _free_logical_date(
        session, dag_id, max(at for _id, at in candidate.queued.values())
    )
    events = _events_to_consume(session, dag_id, logical_date)
    interval = timetable.data_interval_for_events(
        logical_date, [interval for _event_id, interval in events]
    )
    row = {
        "dag_id": dag_id,
        "run_id": DagRunType.DATASET_TRIGGERED.generate_run_id(logical_date.isoformat()),
        "run_type": _DATASET_TRIGGERED,
        "logical_date": logical_date,
        "data_interval_start": interval.start,
        "data_interval_end": interval.end,
        "state": "queued",
        "queued_at": now,
        "external_trigger": False,
        "creating_job_id": job_id,
        "dag_hash": candidate.dag_hash,
        "clear_number": 0,
        "updated_at": now,
    }
    stmt = insert_ignoring_conflicts(session, DagRunRow).returning(DagRunRow.id)
    run_id = session.execute(stmt, [row]).scalar()
    if run_id is None:
        return False
    link_events_to_run(session, run_id, [event_id for event_id, _interval in events])
    session.execute(
        sa.delete(_QUEUE)
        .where(
            _QUEUE.target_dag_id == dag_id,
            _QUEUE.dataset_id.in_([dataset_id for dataset_id, _at in candidate.queued.values()]),
        )
        .execution_options(synchronize_session=False)
    )
    logger.info("Created %s from %d dataset event(s)", row["run_id"], len(events))
    return True


def _free_logical_date(session: Session, dag_id: str, wanted: datetime) -> datetime:
    """``wanted``, or the first microsecond after it no run of ``dag_id`` holds."""
    taken = set(
        session.scalars(
            sa.select(DagRunRow.logical_date).where(
                DagRunRow.dag_id == dag_id, DagRunRow.logical_date >= wanted
            )
        )
    )
    while wanted in taken:
        wanted += _NUDGE
    return wanted


def _events_to_consume(
    session: Session, dag_id: str, logical_date: datetime
) -> list[tuple[int, DataInterval]]:
    """(event id, data interval it stands for) of the events the new run consumes."""
    event, ref = DatasetEventRow, DagScheduleDatasetReferenceRow
    previous = sa.select(sa.func.max(DagRunRow.logical_date)).where(
        DagRunRow.dag_id == dag_id,
        DagRunRow.run_type == _DATASET_TRIGGERED,
        DagRunRow.logical_date < logical_date,
    )
    consumer = aliased(DagRunRow)
    consumed = (
        sa.select(dagrun_dataset_event.c.event_id)
        .join(consumer, consumer.id == dagrun_dataset_event.c.dag_run_id)
        .where(consumer.dag_id == dag_id)
    )
    source = aliased(DagRunRow)
    query = (
        sa.select(event.id, event.timestamp, source.data_interval_start, source.data_interval_end)
        .join(ref, sa.and_(ref.dataset_id == event.dataset_id, ref.dag_id == dag_id))
        .outerjoin(
            source,
            sa.and_(source.dag_id == event.source_dag_id, source.run_id == event.source_run_id),
        )
        .where(
            event.timestamp <= logical_date,
            event.id.not_in(consumed),
            sa.or_(
                previous.scalar_subquery().is_(None),
                event.timestamp >= previous.scalar_subquery(),
            ),
        )
        .order_by(event.timestamp, event.id)
    )
    found: list[tuple[int, DataInterval]] = []
    for event_id, timestamp, start, end in session.execute(query):
        if start is not None and end is not None:
            found.append((event_id, DataInterval(start, end)))
        else:
            found.append((event_id, DataInterval.exact(timestamp)))
    return found
