"""DAG-run use cases: trigger, set state, clear, annotate, delete, and find a run the way
the CLI names it.

Semantics are Airflow 2.10's (``api/common/trigger_dag.py``, ``api/common/mark_tasks.py``
and the ``dagRuns`` endpoints), with the differences noted where they are made. Reading
and listing runs need no use case: callers use
:mod:`tradewind.storage.repositories.dag_runs` (``get_dag_run``, ``require_dag_run``,
``list_dag_runs``) directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tradewind.errors import InvalidInput, NotFound
from tradewind.sdk.states import FINISHED_TI_STATES, DagRunState, DagRunType, TaskInstanceState
from tradewind.sdk.time import parse_datetime
from tradewind.sdk.timetables.base import DataInterval
from tradewind.serialization import deserialize_dag
from tradewind.services.audit import record_event
from tradewind.services.dags import load_serialized_dag, require_serialized_dag_row
from tradewind.services.task_instances import clear_task_instances, mark_state
from tradewind.storage.repositories import dag_runs as run_repo
from tradewind.storage.repositories import dags as dag_repo
from tradewind.storage.repositories.task_instances import tis_of_run
from tradewind.storage.tables import DagRunRow, TaskInstanceRow
from tradewind.storage.tables.base import ID_LENGTH

#: Task-instance states that ``failed`` turns into ``failed`` (Airflow: "running" ones).
_INTERRUPTED = frozenset(
    {TaskInstanceState.RUNNING, TaskInstanceState.DEFERRED, TaskInstanceState.UP_FOR_RESCHEDULE}
)
_SETTABLE_RUN_STATES = (DagRunState.SUCCESS, DagRunState.FAILED, DagRunState.QUEUED)


def trigger_dag_run(
    session: Session,
    dag_id: str,
    *,
    now: datetime,
    run_id: str | None = None,
    logical_date: datetime | None = None,
    conf: Any = None,
    note: str | None = None,
    run_type: str = DagRunType.MANUAL,
    owner: str | None = None,
    data_interval: DataInterval | None = None,
) -> DagRunRow:
    """Create a queued run of ``dag_id``; the scheduler starts it (unless the DAG is paused).

    The data interval is ``data_interval`` when given, else the timetable's
    ``infer_manual_data_interval(run_after=logical_date)``; ``logical_date`` defaults to
    ``now`` and ``run_id`` to ``manual__<logical date ISO>``. Task instances are created
    when the run starts. Writes a ``trigger`` audit row. On any error nothing has been
    added to the session.

    Args:
        conf: the run's conf, a JSON object (None means ``{}``); it must satisfy the
            DAG's Params.
        owner: who triggered it, for the audit log.

    Raises:
        NotFound: unknown DAG, or one without a serialized form.
        InvalidInput: conf is not an object or breaks a Param; naive ``logical_date``;
            bad run id or run type.
        AlreadyExists: the DAG has a run with this run id or logical date (Airflow's
            wording).
    """
    serialized_row = require_serialized_dag_row(session, dag_id)
    dag = deserialize_dag(serialized_row.data)
    run_conf = _validate_conf(conf)
    dag.resolve_params(run_conf)
    run_type = _validate_run_type(run_type)
    logical_date = now if logical_date is None else logical_date
    if logical_date.tzinfo is None or logical_date.utcoffset() is None:
        raise InvalidInput(f"logical_date {logical_date.isoformat()} must have a time zone")
    interval = data_interval or dag.timetable.infer_manual_data_interval(run_after=logical_date)
    if run_id is None:
        run_id = DagRunType(run_type).generate_run_id(logical_date.isoformat())
    _validate_run_id(run_id)
    run = DagRunRow(
        dag_id=dag_id,
        run_id=run_id,
        run_type=run_type,
        logical_date=logical_date,
        data_interval_start=interval.start,
        data_interval_end=interval.end,
        state=DagRunState.QUEUED.value,
        conf=run_conf,
        queued_at=now,
        external_trigger=True,
        dag_hash=serialized_row.dag_hash,
        clear_number=0,
        note=note,
    )
    run_repo.create_dag_run(session, run)
    record_event(
        session,
        "trigger",
        now=now,
        owner=owner,
        dag_id=dag_id,
        run_id=run_id,
        extra={"logical_date": logical_date.isoformat(), "run_type": run_type},
    )
    return run


def require_triggerable_dag(session: Session, dag_id: str) -> None:
    """Refuse to trigger what Airflow's API refuses: a DAG that is unknown or no longer
    active (its file is gone), or whose file has import errors (its stored form is stale).

    Raises:
        NotFound: no active DAG ``dag_id``.
        InvalidInput: the DAG's file has import errors.
    """
    dag = dag_repo.get_dag(session, dag_id)
    if dag is None or not dag.is_active:
        raise NotFound(f"DAG with dag_id: '{dag_id}' not found")
    if dag.has_import_errors:
        raise InvalidInput(f"DAG with dag_id: '{dag_id}' has import errors")


def _validate_conf(conf: Any) -> dict[str, Any]:
    if conf is None:
        return {}
    if not isinstance(conf, Mapping):
        raise InvalidInput(f"DAG run conf must be a JSON object, got {type(conf).__name__}")
    return dict(conf)


def _validate_run_type(run_type: str) -> str:
    try:
        return DagRunType(run_type).value
    except ValueError:
        known = ", ".join(member.value for member in DagRunType)
        raise InvalidInput(f"Unknown run type {run_type!r}; expected one of {known}") from None


def _validate_run_id(run_id: str) -> None:
    if not run_id or run_id != run_id.strip():
        raise InvalidInput(f"Invalid run id {run_id!r}: empty, or blank at either end")
    if len(run_id) > ID_LENGTH:
        raise InvalidInput(f"Run id is {len(run_id)} characters long; at most {ID_LENGTH}")


@dataclass(frozen=True)
class RunStateChange:
    """A run after :func:`set_dag_run_state` or :func:`clear_dag_run`, with the task
    instances that changed (or, in a dry run, would change)."""

    run: DagRunRow
    task_instances: list[TaskInstanceRow]


def set_dag_run_state(
    session: Session,
    dag_id: str,
    run_id: str,
    state: str,
    *,
    now: datetime,
    dry_run: bool = False,
    owner: str | None = None,
) -> RunStateChange:
    """Mark a run ``success``, ``failed`` or ``queued``, as Airflow 2.10 does.

    - ``success``: the run ends now; every task instance of the DAG's tasks that is not
      ``success`` (NULL included) becomes ``success``.
    - ``failed``: the run ends now; ``running``, ``deferred`` and ``up_for_reschedule``
      instances become ``failed``, every other unfinished one ``skipped``. Airflow's
      query misses NULL-state instances (SQL ``NOT IN`` never matches NULL); we skip
      them too, as its comment "mark non-finished tasks as skipped" intends.
    - ``queued``: task instances are untouched and the run waits to be started again:
      ``queued_at`` is now and start/end dates are cleared (Airflow stamps an
      ``end_date``, which would make a queued run look finished).

    A worker still running a try that was marked finished fails its guarded final
    update, so the user's choice stands.

    Args:
        dry_run: change nothing; return what would change.

    Raises:
        InvalidInput: another state.
        NotFound: no such run.
    """
    if state not in _SETTABLE_RUN_STATES:
        allowed = ", ".join(_SETTABLE_RUN_STATES)
        raise InvalidInput(f"Invalid DAG run state {state!r}; expected one of {allowed}")
    run = run_repo.require_dag_run(session, dag_id, run_id)
    altered = _task_instances_to_mark(session, run, state)
    if dry_run:
        return RunStateChange(run, [ti for ti, _new in altered])
    for ti, new_state in altered:
        mark_state(ti, new_state, now=now)
    run.state = str(state)
    if state == DagRunState.QUEUED:
        run.queued_at = now
        run.start_date = None
        run.end_date = None
        run.last_scheduling_decision = None
    else:
        run.end_date = now
    session.flush()
    record_event(
        session,
        f"dagrun_{state}",
        now=now,
        owner=owner,
        dag_id=dag_id,
        run_id=run_id,
        extra={"state": state, "task_instances": len(altered)},
    )
    return RunStateChange(run, [ti for ti, _new in altered])


def _task_instances_to_mark(
    session: Session, run: DagRunRow, state: str
) -> list[tuple[TaskInstanceRow, TaskInstanceState]]:
    if state == DagRunState.QUEUED:
        return []
    tis = tis_of_run(session, run.dag_id, run.run_id)
    try:
        # Airflow marks only the DAG's current tasks; instances of removed tasks stay.
        task_ids = set(load_serialized_dag(session, run.dag_id).task_ids)
        tis = [ti for ti in tis if ti.task_id in task_ids]
    except NotFound:
        pass
    if state == DagRunState.SUCCESS:
        success = TaskInstanceState.SUCCESS
        return [(ti, success) for ti in tis if ti.state != success]
    marks = []
    for ti in tis:
        if ti.state in _INTERRUPTED:
            marks.append((ti, TaskInstanceState.FAILED))
        elif ti.state not in FINISHED_TI_STATES:
            marks.append((ti, TaskInstanceState.SKIPPED))
    return marks


def clear_dag_run(
    session: Session,
    dag_id: str,
    run_id: str,
    *,
    now: datetime,
    dry_run: bool = False,
    owner: str | None = None,
) -> RunStateChange:
    """Clear every task instance of one run, as Airflow's ``clear_dag_run`` endpoint does.

    :func:`~tradewind.services.task_instances.clear_task_instances` for the run, all of
    the DAG's current tasks, any state; a finished run goes back to ``queued``. A run
    with no task instances yet is left as it is.

    Args:
        dry_run: change nothing; return the instances that would be cleared.

    Raises:
        NotFound: no such run, or its DAG has no serialized form.
    """
    run = run_repo.require_dag_run(session, dag_id, run_id)
    cleared = clear_task_instances(
        session,
        dag_id,
        serialized_dag=load_serialized_dag(session, dag_id),
        now=now,
        run_ids=[run_id],
        dry_run=dry_run,
        owner=owner,
    )
    if cleared and not dry_run:
        session.refresh(run)
    return RunStateChange(run, cleared)


def set_dag_run_note(session: Session, dag_id: str, run_id: str, note: str | None) -> DagRunRow:
    """Replace the run's note (None removes it).

    Raises:
        NotFound: no such run.
    """
    run = run_repo.require_dag_run(session, dag_id, run_id)
    run.note = note
    session.flush()
    return run


def delete_dag_run(
    session: Session, dag_id: str, run_id: str, *, now: datetime, owner: str | None = None
) -> None:
    """Delete a run with its task instances, tries, XComs and reschedules.

    Raises:
        NotFound: no such run.
    """
    run_repo.delete_dag_run(session, dag_id, run_id)
    record_event(session, "delete_dag_run", now=now, owner=owner, dag_id=dag_id, run_id=run_id)


def find_dag_run(session: Session, dag_id: str, run_id_or_logical_date: str) -> DagRunRow | None:
    """The run the CLI's ``EXECUTION_DATE_OR_RUN_ID`` argument names, or None.

    As Airflow's CLI: a run with that run id first; otherwise, when the text parses as
    an ISO 8601 date, the run with that logical date.
    """
    run = run_repo.get_dag_run(session, dag_id, run_id_or_logical_date)
    if run is not None:
        return run
    try:
        logical_date = parse_datetime(run_id_or_logical_date)
    except ValueError:
        return None
    return run_repo.get_dag_run_by_logical_date(session, dag_id, logical_date)


def require_dag_run_by_id_or_date(
    session: Session, dag_id: str, run_id_or_logical_date: str
) -> DagRunRow:
    """:func:`find_dag_run`, raising NotFound in Airflow's CLI wording."""
    run = find_dag_run(session, dag_id, run_id_or_logical_date)
    if run is None:
        raise NotFound(
            f"DagRun for {dag_id} with run_id or logical date of "
            f"{run_id_or_logical_date!r} not found"
        )
    return run
