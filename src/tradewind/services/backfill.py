"""Backfill: the runs a DAG's schedule would have had over a past range, for the scheduler.

Airflow 2.10's ``dags backfill`` runs a ``BackfillJob`` that executes the tasks itself,
beside the scheduler. Tradewind does what Airflow 3 moved to: the backfill only
*creates* runs (``run_type="backfill"``, run id ``backfill__<logical date ISO>``, state
``queued``) and the scheduler runs them like any other, under ``max_active_runs``,
pools and every other limit, with the same workers, logs and retries. The CLI then
follows them until they finish.

Semantics, and where they differ from Airflow 2.10:

- **Dates.** Every logical date the timetable yields in ``[start, end]`` (inclusive),
  as ``DAG.iter_dagrun_infos_between``: ``next_dagrun_info`` chained from the first
  schedule point at or after ``start``, with catchup on, within the DAG's own
  ``start_date``/``end_date`` (Airflow's task dependencies would refuse dates before
  ``start_date`` anyway). A DAG that is never scheduled (``schedule=None``, datasets)
  or ``@continuous`` has no dates: :class:`~tradewind.errors.InvalidInput`.
- **Existing runs** (of any run type) at one of those dates are left alone; with
  ``reset_dagruns`` every task instance of theirs is cleared, with
  ``rerun_failed_tasks`` only the ``failed``/``upstream_failed`` ones; either way
  their finished runs go back to ``queued`` (the clear service's rules). Airflow
  takes such runs over and turns them into backfill runs; we keep their identity.
- **Order.** ``run_backwards`` queues the runs latest first; the scheduler starts
  backfill runs in the order they were queued (``queued_at``, one microsecond apart),
  after any other queued run of the DAG, as Airflow 3 orders them. As in Airflow, it
  is refused when a task ``depends_on_past``.
- **Paused DAGs** are backfilled: the scheduler starts and runs ``backfill`` runs of a
  paused DAG (Airflow 2's backfill ignores the pause too); its other runs wait.

Everything happens in the caller's transaction, so a failed backfill leaves nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from tradewind.errors import InvalidInput
from tradewind.sdk.states import DagRunState, DagRunType
from tradewind.sdk.timetables import (
    ContinuousTimetable,
    DagRunInfo,
    DataInterval,
    TimeRestriction,
)
from tradewind.serialization import SerializedDAG, deserialize_dag
from tradewind.services.audit import record_event
from tradewind.services.dags import require_serialized_dag_row
from tradewind.services.task_instances import clear_task_instances
from tradewind.storage.repositories import dag_runs as run_repo
from tradewind.storage.tables import DagRunRow

#: Most runs one backfill may cover: a guard against a typo such as a minutely
#: schedule over ten years, which would flood the scheduler.
MAX_BACKFILL_RUNS = 10_000
#: Gap between the ``queued_at`` of two successive runs of a backfill, which is what
#: orders them for the scheduler (runs created in one transaction share ``now``).
QUEUE_ORDER_STEP = timedelta(microseconds=1)


class BackfillAction(StrEnum):
    """What a backfill does with one of its dates."""

    CREATE = "create"
    """No run has this logical date: a queued backfill run is created."""
    SKIP = "skip"
    """A run exists and is left as it is."""
    RESET = "reset"
    """A run exists; all its task instances are cleared (``reset_dagruns``)."""
    RERUN_FAILED = "rerun_failed"
    """A run exists; its failed task instances are cleared (``rerun_failed_tasks``)."""


@dataclass(frozen=True)
class BackfillDate:
    """One date of a backfill and what is (or, in a dry run, would be) done about it.

    Attributes:
        run_id: the run created (``backfill__<ISO>``) or the existing run's id.
        run_state: the run's state after the backfill (``queued`` for created runs).
        cleared: task instances cleared (``reset``/``rerun_failed``), else 0.
    """

    logical_date: datetime
    data_interval: DataInterval
    action: BackfillAction
    run_id: str
    run_state: str
    cleared: int = 0


@dataclass(frozen=True)
class Backfill:
    """The outcome of :func:`backfill_dag`, dates in the order they are queued."""

    dag_id: str
    dates: tuple[BackfillDate, ...]

    @property
    def run_ids(self) -> list[str]:
        return [date.run_id for date in self.dates]

    def count(self, action: BackfillAction) -> int:
        return sum(1 for date in self.dates if date.action == action)


def backfill_infos(
    dag: SerializedDAG, start: datetime, end: datetime, *, now: datetime
) -> list[DagRunInfo]:
    """The runs the DAG's timetable has in ``[start, end]``, oldest first.

    Raises:
        InvalidInput: naive or inverted bounds; a DAG that is never scheduled or is
            ``@continuous``; more than :data:`MAX_BACKFILL_RUNS` dates.
    """
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput(f"Backfill {name} date {value.isoformat()} must have a time zone")
    if end < start:
        raise InvalidInput(
            f"Backfill end date {end.isoformat()} is before its start date {start.isoformat()}"
        )
    timetable = dag.timetable
    if not timetable.can_be_scheduled:
        raise InvalidInput(
            f"DAG {dag.dag_id!r} has no schedule ({dag.timetable_summary or 'None'}), so it has "
            "no dates to backfill; create runs with `tradewind dags trigger` instead"
        )
    if isinstance(timetable, ContinuousTimetable):
        raise InvalidInput(f"DAG {dag.dag_id!r} is @continuous: it has no dates to backfill")
    earliest = max(start, dag.start_date) if dag.start_date is not None else start
    latest = min(end, dag.end_date) if dag.end_date is not None else end
    restriction = TimeRestriction(earliest, latest, catchup=True, now=now)
    infos: list[DagRunInfo] = []
    info = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    while info is not None and info.logical_date <= latest:
        if infos and info.logical_date <= infos[-1].logical_date:
            break  # a timetable that does not move forward would loop for ever
        if info.logical_date >= earliest:
            infos.append(info)
        if len(infos) > MAX_BACKFILL_RUNS:
            raise InvalidInput(
                f"The backfill of {dag.dag_id!r} would create more than {MAX_BACKFILL_RUNS} "
                "runs; split the range"
            )
        info = timetable.next_dagrun_info(
            last_automated_data_interval=info.data_interval, restriction=restriction
        )
    return infos


def backfill_dag(
    session: Session,
    dag_id: str,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    conf: Mapping[str, Any] | None = None,
    reset_dagruns: bool = False,
    rerun_failed_tasks: bool = False,
    run_backwards: bool = False,
    dry_run: bool = False,
    owner: str | None = None,
) -> Backfill:
    """Queue a backfill run for each date of ``dag_id`` in ``[start, end]`` (module doc).

    Writes one ``backfill`` audit row. Never commits; the caller wakes the scheduler
    after committing.

    Args:
        conf: the conf of the runs created (and, when given, of the runs reset or
            re-run); checked against the DAG's Params. None means ``{}``.
        reset_dagruns: clear every task instance of existing runs at these dates.
        rerun_failed_tasks: clear the failed ones only (``reset_dagruns`` wins).
        run_backwards: queue the latest date first.
        dry_run: change nothing; say what would be done.

    Raises:
        NotFound: unknown DAG, or one without a serialized form.
        InvalidInput: see :func:`backfill_infos`; a bad conf; ``run_backwards`` with
            a ``depends_on_past`` task.
    """
    serialized_row = require_serialized_dag_row(session, dag_id)
    dag, dag_hash = deserialize_dag(serialized_row.data), serialized_row.dag_hash
    run_conf = _validate_conf(dag, conf)
    infos = backfill_infos(dag, start, end, now=now)
    if run_backwards:
        past = sorted(task.task_id for task in dag.tasks if task.depends_on_past)
        if past:
            raise InvalidInput(
                "You cannot backfill backwards because one or more tasks depend_on_past: "
                + ",".join(past)
            )
        infos.reverse()
    existing = _runs_at(session, dag_id, [info.logical_date for info in infos])
    action = BackfillAction.SKIP
    if reset_dagruns:
        action = BackfillAction.RESET
    elif rerun_failed_tasks:
        action = BackfillAction.RERUN_FAILED
    dates: list[BackfillDate] = []
    for position, info in enumerate(infos):
        queued_at = now + position * QUEUE_ORDER_STEP
        run = existing.get(info.logical_date)
        if run is None:
            run_id = DagRunType.BACKFILL.generate_run_id(info.logical_date.isoformat())
            if not dry_run:
                _create_run(session, dag_id, run_id, info, run_conf, queued_at, dag_hash)
            dates.append(
                BackfillDate(
                    info.logical_date,
                    info.data_interval,
                    BackfillAction.CREATE,
                    run_id,
                    DagRunState.QUEUED.value,
                )
            )
            continue
        cleared = 0
        if action != BackfillAction.SKIP:
            cleared = _clear_run(session, dag, run, action, now=now, dry_run=dry_run, owner=owner)
            if not dry_run and cleared:
                if conf is not None:
                    run.conf = run_conf
                if run.state == DagRunState.QUEUED:
                    run.queued_at = queued_at
        dates.append(
            BackfillDate(
                info.logical_date, info.data_interval, action, run.run_id, run.state, cleared
            )
        )
    if not dry_run:
        session.flush()
        record_event(
            session,
            "backfill",
            now=now,
            owner=owner,
            dag_id=dag_id,
            extra={
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "runs": len(dates),
                **{str(a): sum(1 for d in dates if d.action == a) for a in BackfillAction},
            },
        )
    return Backfill(dag_id, tuple(dates))


def _validate_conf(dag: SerializedDAG, conf: Mapping[str, Any] | None) -> dict[str, Any]:
    if conf is None:
        run_conf: dict[str, Any] = {}
    elif isinstance(conf, Mapping):
        run_conf = dict(conf)
    else:
        raise InvalidInput(f"DAG run conf must be a JSON object, got {type(conf).__name__}")
    dag.resolve_params(run_conf)
    return run_conf


def _runs_at(session: Session, dag_id: str, dates: list[datetime]) -> dict[datetime, DagRunRow]:
    """The DAG's runs at ``dates``, by logical date (one query over their span)."""
    if not dates:
        return {}
    wanted = set(dates)
    page = run_repo.list_dag_runs(
        session,
        dag_id,
        logical_date_gte=min(dates),
        logical_date_lte=max(dates),
        limit=1_000_000,
    )
    return {run.logical_date: run for run in page.items if run.logical_date in wanted}


def _create_run(
    session: Session,
    dag_id: str,
    run_id: str,
    info: DagRunInfo,
    conf: dict[str, Any],
    queued_at: datetime,
    dag_hash: str,
) -> None:
    run = DagRunRow(
        dag_id=dag_id,
        run_id=run_id,
        run_type=DagRunType.BACKFILL.value,
        logical_date=info.logical_date,
        data_interval_start=info.data_interval.start,
        data_interval_end=info.data_interval.end,
        state=DagRunState.QUEUED.value,
        conf=dict(conf),
        queued_at=queued_at,
        external_trigger=False,
        dag_hash=dag_hash,
        clear_number=0,
    )
    run_repo.create_dag_run(session, run)


def _clear_run(
    session: Session,
    dag: SerializedDAG,
    run: DagRunRow,
    action: BackfillAction,
    *,
    now: datetime,
    dry_run: bool,
    owner: str | None,
) -> int:
    """Clear the run's task instances as ``action`` says; how many were (or would be)."""
    cleared = clear_task_instances(
        session,
        dag.dag_id,
        serialized_dag=dag,
        now=now,
        run_ids=[run.run_id],
        only_failed=action == BackfillAction.RERUN_FAILED,
        dry_run=dry_run,
        owner=owner,
    )
    if not dry_run and cleared:
        session.refresh(run)  # the clear re-queued it with a bulk UPDATE
    return len(cleared)
