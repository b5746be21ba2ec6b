"""Run-level decisions of the planner: which scheduled runs to create, which queued runs to start.

Both follow Airflow 2.10:

* **Creation.** A DAG that is not paused and whose ``next_dagrun_create_after`` has
  passed gets a ``scheduled`` run for ``next_dagrun``, while the DAG's runs (running
  ones, ``active_runs``, plus its queued ones in the snapshot, plus the ones created
  in this pass) stay under ``max_active_runs`` (queued runs count, as in Airflow, or
  a catch-up DAG would pile up queued runs without bound). Each :class:`NewRun`
  carries the DAG's next-run fields after it, computed by the timetable from the
  run's data interval; when that next run is also due, it is created in the same
  pass, so catch-up creates up to ``max_active_runs`` runs at once.
* **Starting.** Queued runs of a DAG that is not paused move to ``running``, oldest
  logical date first, while the DAG's running runs stay under ``max_active_runs``
  (and the timetable's own ``active_runs_limit``, e.g. ``@continuous``'s one). A
  paused DAG's queued runs, manual ones included, wait until it is unpaused, except
  ``backfill`` runs (:data:`RUN_TYPES_IGNORING_PAUSE`): Airflow 2 backfills paused
  DAGs, and a user who asked for a backfill expects it to run. Backfill runs start
  after the DAG's other queued runs, in the order the backfill queued them
  (``queued_at``), which is how ``--run-backwards`` works (Airflow 3 orders them the
  same way). Runs that finish in this pass free their slot in the next pass, not
  this one.

A DAG whose timetable cannot be loaded or raises is left alone and reported in
``problems``: one broken custom timetable must not stop the scheduler.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from tradewind.scheduler.model import DagSnapshot, NewRun, RunSnapshot, RunTransition, Snapshot
from tradewind.sdk.states import DagRunState, DagRunType
from tradewind.sdk.timetables import DagRunInfo, DataInterval, TimeRestriction, Timetable

#: Run types that a paused DAG still starts and runs.
RUN_TYPES_IGNORING_PAUSE = frozenset({DagRunType.BACKFILL.value})


def create_runs(snapshot: Snapshot, problems: list[str]) -> list[NewRun]:
    """The scheduled runs due at ``snapshot.now``, oldest first per DAG."""
    queued = _queued_runs_by_dag(snapshot.runs)
    created: list[NewRun] = []
    for dag in snapshot.dags.values():
        if dag.is_paused or dag.next_dagrun_create_after is None:
            continue
        if dag.next_dagrun_create_after > snapshot.now:
            continue
        budget = dag.max_active_runs - dag.active_runs - len(queued.get(dag.dag_id, ()))
        if budget <= 0:
            continue
        try:
            # Runs yielded before a failure are complete (each knows its successor).
            for run in _due_runs(dag, snapshot.now, budget):
                created.append(run)
        except Exception as exc:  # a custom timetable is user code
            problems.append(f"DAG {dag.dag_id!r}: cannot compute its next run: {exc!r}")
    return created


def start_runs(snapshot: Snapshot, problems: list[str]) -> list[RunTransition]:
    """Queued runs to move to ``running``, oldest logical date first per DAG."""
    started: list[RunTransition] = []
    for dag_id, runs in _queued_runs_by_dag(snapshot.runs).items():
        dag = snapshot.dags.get(dag_id)
        if dag is None:
            continue
        if dag.is_paused:
            runs = [run for run in runs if run.run_type in RUN_TYPES_IGNORING_PAUSE]
        limit = dag.max_active_runs
        try:
            timetable_limit = dag.dag.timetable.active_runs_limit
        except Exception as exc:
            problems.append(f"DAG {dag_id!r}: cannot load its timetable: {exc!r}")
            continue
        if timetable_limit is not None:
            limit = min(limit, timetable_limit)
        budget = limit - dag.active_runs
        for run in sorted(runs, key=_start_order)[: max(budget, 0)]:
            started.append(RunTransition(run.id, DagRunState.QUEUED, DagRunState.RUNNING))
    return started


def _start_order(run: RunSnapshot) -> tuple[bool, datetime, datetime, int]:
    """Oldest logical date first; backfill runs last, in the order they were queued."""
    if run.run_type == DagRunType.BACKFILL:
        return (True, run.queued_at or run.logical_date, run.logical_date, run.id)
    return (False, run.logical_date, run.logical_date, run.id)


def _due_runs(dag: DagSnapshot, now: datetime, budget: int) -> Iterator[NewRun]:
    """Up to ``budget`` NewRuns starting at the DAG's ``next_dagrun``, chained while due."""
    if dag.next_dagrun is None or dag.next_dagrun_data_interval is None:
        raise ValueError("next_dagrun_create_after is set but next_dagrun or its interval is not")
    timetable = dag.dag.timetable
    restriction = TimeRestriction(
        earliest=dag.dag.start_date, latest=dag.dag.end_date, catchup=dag.catchup, now=now
    )
    logical_date: datetime = dag.next_dagrun
    interval = DataInterval(*dag.next_dagrun_data_interval)
    for _ in range(budget):
        info = _next_info(timetable, interval, restriction)
        yield NewRun(
            dag_id=dag.dag_id,
            run_id=DagRunType.SCHEDULED.generate_run_id(logical_date.isoformat()),
            run_type=DagRunType.SCHEDULED,
            logical_date=logical_date,
            data_interval_start=interval.start,
            data_interval_end=interval.end,
            next_dagrun=info.logical_date if info else None,
            next_dagrun_data_interval=(info.data_interval.start, info.data_interval.end)
            if info
            else None,
            next_dagrun_create_after=info.run_after if info else None,
        )
        if info is None or info.run_after > now:
            return
        logical_date, interval = info.logical_date, info.data_interval


def _next_info(
    timetable: Timetable, interval: DataInterval, restriction: TimeRestriction
) -> DagRunInfo | None:
    return timetable.next_dagrun_info(
        last_automated_data_interval=interval, restriction=restriction
    )


def _queued_runs_by_dag(runs: tuple[RunSnapshot, ...]) -> dict[str, list[RunSnapshot]]:
    queued: defaultdict[str, list[RunSnapshot]] = defaultdict(list)
    for run in runs:
        if run.state == DagRunState.QUEUED:
            queued[run.dag_id].append(run)
    return queued
