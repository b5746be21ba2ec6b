"""The first ``next_dagrun*`` fields of DAGs that have none yet.

The DAG processor stores a DAG with ``next_dagrun*`` NULL (new DAGs, and DAGs whose
schedule changed: ``dag_processing.store`` resets them). The planner only creates
scheduled runs from those fields and advances them with each run it creates
(``NewRun.next_dagrun*``), so something must compute the *first* value: this module,
called by the loop for active, unpaused DAGs whose ``next_dagrun_create_after`` is NULL.

NULL also means "this timetable schedules nothing more" (``schedule=None``, a dataset
schedule, ``@once`` after its run, past ``end_date``), so a NULL alone cannot tell "to
compute" from "computed: no more runs". The loop keeps in memory, per DAG, the
``dag_hash`` it last computed for (:class:`NextRunMemory`) and recomputes only when
the hash differs. Why memory rather than a column: it needs no migration, a new DAG
version (the only thing that can change the answer, besides unpausing, which the
memory does not cover because paused DAGs are never computed) changes the hash, and
after a restart each such DAG is recomputed once, which is idempotent: the answer
depends only on the DAG and the last automated run, and writes are guarded on the
fields still being NULL.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import TradewindError
from tradewind.scheduler.snapshot import DagCache
from tradewind.sdk.timetables import DagRunInfo, DataInterval, TimeRestriction
from tradewind.serialization import SerializedDAG
from tradewind.storage.tables import DagRow, DagRunRow, SerializedDagRow

logger = logging.getLogger(__name__)

#: Run types whose data intervals the timetable continues from (Airflow's choice:
#: manual and dataset-triggered runs do not move the schedule).
AUTOMATED_RUN_TYPES = ("scheduled", "backfill")


class NextRunMemory:
    """dag_id -> the ``dag_hash`` whose next-run fields were last computed."""

    def __init__(self) -> None:
        self._computed: dict[str, str] = {}

    def needs(self, dag_id: str, dag_hash: str) -> bool:
        return self._computed.get(dag_id) != dag_hash

    def remember(self, dag_id: str, dag_hash: str) -> None:
        self._computed[dag_id] = dag_hash


def next_dagrun_info(
    dag: SerializedDAG,
    *,
    last_automated: DataInterval | None,
    now: datetime,
    catchup_by_default: bool,
) -> DagRunInfo | None:
    """The DAG's next automated run after ``last_automated``, or None for no more.

    Raises:
        InvalidInput: the DAG's timetable cannot be rebuilt here.
    """
    timetable = dag.timetable
    if not timetable.can_be_scheduled:
        return None
    catchup = catchup_by_default if dag.catchup is None else dag.catchup
    restriction = TimeRestriction(dag.start_date, dag.end_date, catchup, now)
    return timetable.next_dagrun_info(
        last_automated_data_interval=last_automated, restriction=restriction
    )


def initialize_next_dagruns(
    session: Session,
    *,
    now: datetime,
    catchup_by_default: bool,
    dag_cache: DagCache,
    memory: NextRunMemory,
) -> int:
    """Fill ``next_dagrun*`` of active unpaused DAGs that have none and need computing.

    Two queries in steady state (the candidates; nothing to compute), four at most
    (plus uncached DAG documents and the candidates' last automated runs), whatever
    the number of DAGs, and one guarded UPDATE per DAG that gets a next run.

    Returns:
        How many DAGs got a next run.
    """
    rows = session.execute(
        sa.select(DagRow.dag_id, SerializedDagRow.dag_hash)
        .join(SerializedDagRow, SerializedDagRow.dag_id == DagRow.dag_id)
        .where(
            DagRow.is_active,
            sa.not_(DagRow.is_paused),
            DagRow.next_dagrun_create_after.is_(None),
        )
    ).all()
    wanted = {dag_id: digest for dag_id, digest in rows if memory.needs(dag_id, digest)}
    if not wanted:
        return 0
    dag_cache.load_missing(session, wanted)
    dags: dict[str, SerializedDAG] = {}
    for dag_id, digest in wanted.items():
        cached = dag_cache.get(dag_id)
        if cached is None or cached.dag_hash != digest:
            memory.remember(dag_id, digest)  # unreadable: logged by the cache
        elif _schedulable(cached.dag):
            dags[dag_id] = cached.dag
        else:
            memory.remember(dag_id, digest)
    last = _last_automated_intervals(session, list(dags))
    updated = 0
    for dag_id, dag in dags.items():
        memory.remember(dag_id, wanted[dag_id])
        try:
            info = next_dagrun_info(
                dag, last_automated=last.get(dag_id), now=now, catchup_by_default=catchup_by_default
            )
        except (TradewindError, ValueError) as exc:
            logger.error("Cannot compute the next run of DAG %s: %s", dag_id, exc)
            continue
        if info is None:
            continue
        result = session.execute(
            sa.update(DagRow)
            .where(DagRow.dag_id == dag_id, DagRow.next_dagrun_create_after.is_(None))
            .values(
                next_dagrun=info.logical_date,
                next_dagrun_data_interval_start=info.data_interval.start,
                next_dagrun_data_interval_end=info.data_interval.end,
                next_dagrun_create_after=info.run_after,
            )
            .execution_options(synchronize_session=False)
        )
        updated += result.rowcount  # type: ignore[attr-defined]
    return updated


def _schedulable(dag: SerializedDAG) -> bool:
    try:
        return dag.timetable.can_be_scheduled
    except TradewindError as exc:
        logger.error("Cannot schedule DAG %s: %s", dag.dag_id, exc)
        return False


def _last_automated_intervals(session: Session, dag_ids: list[str]) -> dict[str, DataInterval]:
    """The data interval of each DAG's latest scheduled or backfill run (one query)."""
    if not dag_ids:
        return {}
    run = DagRunRow
    latest = (
        sa.select(run.dag_id, sa.func.max(run.logical_date).label("logical_date"))
        .where(run.dag_id.in_(dag_ids), run.run_type.in_(AUTOMATED_RUN_TYPES))
        .group_by(run.dag_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(
            run.dag_id, run.logical_date, run.data_interval_start, run.data_interval_end
        ).join(
            latest,
            sa.and_(run.dag_id == latest.c.dag_id, run.logical_date == latest.c.logical_date),
        )
    ).all()
    intervals: dict[str, DataInterval] = {}
    for dag_id, logical_date, start, end in rows:
        if start is not None and end is not None:
            intervals[dag_id] = DataInterval(start, end)
        else:  # runs from before data intervals were recorded
            intervals[dag_id] = DataInterval.exact(logical_date)
    return intervals
