"""The worker's guarded transitions of one task try in the metadata database.

Each function is one short transaction (``BEGIN IMMEDIATE`` on SQLite, so a write
never fails halfway on a lock upgrade) around one guarded ``UPDATE``; none is held
while the task runs. On PostgreSQL, where each statement is a round trip, a first try's
claim and most records are a single statement committed on its own instead. The guards
are what make a try run at most once:

* :func:`claim_try` — ``queued -> running`` only ``WHERE state = 'queued' AND
  try_number = :n``. A replayed workload, a cleared task instance or a second worker
  racing for the same try updates 0 rows and does not run it.
* :func:`heartbeat_try` — ``last_heartbeat_at`` only while ``running`` with try ``n``;
  0 rows means someone else changed the task instance (cleared it, marked it).
* :func:`record_try` — ``running -> <final>`` only while ``running`` with try ``n``;
  0 rows means the outcome is stale and is dropped (the caller logs it).

Archiving: a try that ends ``up_for_retry`` is copied to ``task_instance_history``
in the same transaction, with state ``failed`` (what that try did; ``up_for_retry``
is what happens next), as Airflow 2.10 records it — the next try overwrites the
``task_instance`` row. Tries that end ``success``, ``failed`` or ``skipped`` stay in
``task_instance`` only: the clear service archives them when it resets the row, and
archiving them here too would record the same try twice. The copy is also guarded
(``NOT EXISTS`` for that try number), so a replay cannot duplicate it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, sessionmaker

from tradewind.execution.claimed import ClaimedTry, TryIdentity
from tradewind.execution.db_xcom import write_xcoms
from tradewind.sdk.states import TaskInstanceState
from tradewind.services.datasets import register_outlet_events
from tradewind.storage.engine import transaction
from tradewind.storage.repositories.datasets import TaskSource, outlet_datasets
from tradewind.storage.tables.dag_run import DagRunRow
from tradewind.storage.tables.dataset import TaskOutletDatasetReferenceRow
from tradewind.storage.tables.task_instance import (
    TI_KEY,
    TaskInstanceHistoryRow,
    TaskInstanceRow,
    TaskRescheduleRow,
)
from tradewind.storage.tables.xcom import XComRow

_TI = TaskInstanceRow
_T = cast(sa.Table, TaskInstanceRow.__table__)
_XCOM = cast(sa.Table, XComRow.__table__)
_RUNNING = TaskInstanceState.RUNNING.value
_QUEUED = TaskInstanceState.QUEUED.value
_NOT_STARTED = (TaskInstanceState.SCHEDULED.value,)

# The statements of every try are built once, with bind parameters: building SQLAlchemy
# expressions costs more than executing them on SQLite, and a try runs four of them.
_THIS_TRY = (_T.c.id == sa.bindparam("p_ti_id"), _T.c.try_number == sa.bindparam("p_try"))
_CLAIM = (
    sa.update(_T)
    .where(*_THIS_TRY, _T.c.state == _QUEUED)
    .values(
        state=_RUNNING,
        hostname=sa.bindparam("p_hostname"),
        pid=sa.bindparam("p_pid"),
        unixname=sa.bindparam("p_unixname"),
        start_date=sa.bindparam("p_now"),
        end_date=None,
        duration=None,
        last_heartbeat_at=sa.bindparam("p_now"),
    )
)
_CLEAR_XCOM = sa.delete(_XCOM).where(
    *(_XCOM.c[name] == sa.bindparam(f"p_{name}") for name in TI_KEY)
)
_R = cast(sa.Table, DagRunRow.__table__)
_OUTLET = cast(sa.Table, TaskOutletDatasetReferenceRow.__table__)
#: What the claim reads back: the try's DAG run, for the task's context, and whether its
#: task updates datasets (only then does its record look them up).
_CLAIMED_COLUMNS = (
    _T.c.max_tries,
    _R.c.logical_date,
    _R.c.data_interval_start,
    _R.c.data_interval_end,
    _R.c.run_type,
    _R.c.conf,
    _R.c.start_date,
    _R.c.external_trigger,
    _R.c.state,
    sa.exists()
    .where(_OUTLET.c.dag_id == _T.c.dag_id, _OUTLET.c.task_id == _T.c.task_id)
    .label("has_outlets"),
)
_JOIN_RUN = ((_R.c.dag_id == _T.c.dag_id) & (_R.c.run_id == _T.c.run_id),)
# PostgreSQL claims and reads in one statement (UPDATE ... FROM dag_run ... RETURNING);
# SQLite's RETURNING cannot name the FROM table, and its second statement is a local call.
_CLAIM_RETURNING_RUN = _CLAIM.where(*_JOIN_RUN).returning(*_CLAIMED_COLUMNS)
_RUN_OF_TRY = (
    sa.select(*_CLAIMED_COLUMNS).where(*_JOIN_RUN).where(_T.c.id == sa.bindparam("p_ti_id"))
)
_HEARTBEAT = (
    sa.update(_T)
    .where(*_THIS_TRY, _T.c.state == _RUNNING)
    .values(last_heartbeat_at=sa.bindparam("p_now"))
)
_RECORD = (
    sa.update(_T)
    .where(*_THIS_TRY, _T.c.state == _RUNNING)
    .values(
        state=sa.bindparam("p_state"),
        end_date=sa.bindparam("p_end"),
        duration=sa.bindparam("p_duration"),
        rendered_fields=sa.bindparam("p_rendered"),
    )
)


def compile_statements(sessions: sessionmaker[Session]) -> None:
    """Run every statement of a try against a try that does not exist, then roll back.

    A worker calls this once as it warms up, so that its engine's compiled-statement
    cache already holds them when the first try comes: compiling costs more than
    running them on SQLite.
    """
    ident = {f"p_{name}": "" for name in TI_KEY} | {"p_map_index": -1}
    # Each call must pass exactly the parameter names the try passes: they are part of
    # the cache key of an UPDATE (one name more and the try compiles it again).
    nothing = {"p_ti_id": -1, "p_try": -1}
    claim = {**nothing, "p_now": None, "p_hostname": "", "p_pid": 0, "p_unixname": ""}
    with sessions() as session:
        if _on_postgresql(sessions):
            session.execute(_CLAIM_RETURNING_RUN, claim).all()
        else:
            session.execute(_CLAIM, claim)
            session.execute(_RUN_OF_TRY, {"p_ti_id": -1}).all()
        session.execute(_CLEAR_XCOM, ident)
        session.execute(_HEARTBEAT, {**nothing, "p_now": None})
        record = {**nothing, "p_state": "", "p_end": None, "p_duration": 0.0, "p_rendered": None}
        session.execute(_RECORD, record)
        if _on_postgresql(sessions):
            xcom = {f"x_{name}": "" for name in TI_KEY} | {"x_map_index": -1}
            session.execute(
                _RECORD_WITH_XCOM,
                {**record, **xcom, "x_key": "", "x_value": None, "x_timestamp": None},
            ).all()
        outlet_datasets(session, "", "")
        session.rollback()


def _on_postgresql(sessions: sessionmaker[Session]) -> bool:
    return bool(sessions.kw["bind"].dialect.name == "postgresql")


def _rowcount(result: sa.Result[Any]) -> int:
    """Rows an UPDATE matched (``Session.execute`` types its result as a plain ``Result``)."""
    return cast("sa.CursorResult[Any]", result).rowcount


def _try_params(ident: TryIdentity) -> dict[str, Any]:
    return {"p_ti_id": ident.ti_id, "p_try": ident.try_number}


def claim_try(
    sessions: sessionmaker[Session],
    ident: TryIdentity,
    *,
    now: datetime,
    hostname: str,
    pid: int,
    unixname: str,
) -> ClaimedTry | None:
    """Move the try ``queued -> running``, delete its XComs of an earlier try and read its
    DAG run; None if the guard failed (then nothing changed).

    Atomic. On PostgreSQL a first try's claim is a single statement, committed on its
    own (no ``BEGIN``/``COMMIT`` round trips); every other claim is one transaction.
    """
    params = {
        **_try_params(ident),
        "p_hostname": hostname,
        "p_pid": pid,
        "p_unixname": unixname,
        "p_now": now,
    }
    on_postgresql = _on_postgresql(sessions)
    # Airflow clears a task instance's XComs when a try starts: here, in the claim.
    # Only tries write XComs, and a clear keeps the try number (the next try is n+1),
    # so before a first try there is nothing to delete: one statement saved per try.
    clear_xcoms = ident.try_number > 1
    with (
        _single_statement(sessions)
        if on_postgresql and not clear_xcoms
        else transaction(sessions, sqlite_begin="IMMEDIATE")
    ) as session:
        if on_postgresql:
            run = session.execute(_CLAIM_RETURNING_RUN, params).one_or_none()
        elif _rowcount(session.execute(_CLAIM, params)) == 1:
            run = session.execute(_RUN_OF_TRY, {"p_ti_id": ident.ti_id}).one()
        else:
            run = None
        if run is None:
            return None
        if clear_xcoms:
            session.execute(_CLEAR_XCOM, {f"p_{name}": getattr(ident, name) for name in TI_KEY})
    return ClaimedTry(
        start_date=now,
        max_tries=run.max_tries,
        logical_date=run.logical_date,
        data_interval_start=run.data_interval_start,
        data_interval_end=run.data_interval_end,
        run_type=run.run_type,
        conf=dict(run.conf or {}),
        run_start_date=run.start_date,
        external_trigger=run.external_trigger,
        run_state=run.state,
        has_outlets=bool(run.has_outlets),
    )


@contextmanager
def _single_statement(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose statements each commit on their own (PostgreSQL's autocommit)."""
    with sessions() as session:
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session


def set_try_pid(sessions: sessionmaker[Session], ident: TryIdentity, *, pid: int) -> bool:
    """Record that another process runs the try (its first one died before it started);
    False when the try is no longer ``running`` with try ``n``."""
    with transaction(sessions, sqlite_begin="IMMEDIATE") as session:
        moved = session.execute(
            sa.update(_T).where(*_THIS_TRY, _T.c.state == _RUNNING).values(pid=pid),
            _try_params(ident),
        )
        return _rowcount(moved) == 1


def heartbeat_try(sessions: sessionmaker[Session], ident: TryIdentity, *, now: datetime) -> bool:
    """Set ``last_heartbeat_at``; False when the try is no longer ``running`` with try ``n``."""
    with transaction(sessions, sqlite_begin="IMMEDIATE") as session:
        beat = session.execute(_HEARTBEAT, {**_try_params(ident), "p_now": now})
        return _rowcount(beat) == 1


def record_try(
    sessions: sessionmaker[Session],
    ident: TryIdentity,
    *,
    state: TaskInstanceState,
    start_date: datetime,
    end_date: datetime,
    duration: float,
    rendered_fields: Mapping[str, Any] | None,
    skipped_task_ids: Iterable[str] = (),
    reschedule_at: datetime | None = None,
    xcoms: Iterable[tuple[str, Any]] = (),
    has_outlets: bool = True,
) -> bool:
    """Move the try ``running -> state`` with its side effects, atomically: in one
    transaction, or on PostgreSQL, when it writes only the row and at most one XCom (most
    tries), in one statement committed on its own.

    Side effects, only when the guard held: archive an ``up_for_retry`` try; mark
    ``skipped`` the task instances of ``skipped_task_ids`` in this run that have not
    started (state none or ``scheduled``); record a sensor's reschedule; on success,
    record an update of each dataset in the task's ``outlets`` (as the DAG processor
    stored them) and queue it for the DAGs scheduled on it; store ``xcoms``, the
    ``(key, value)`` XComs the try held (its return value), whatever the state.
    ``has_outlets=False`` (the claim found the task has none) skips looking them up.

    Returns:
        False when the guard failed: the try was cleared or changed meanwhile, and
        nothing was written.
    """
    params = {
        **_try_params(ident),
        "p_state": state.value,
        "p_end": end_date,
        "p_duration": duration,
        "p_rendered": dict(rendered_fields) if rendered_fields else None,
    }
    xcoms = tuple(xcoms)
    skipped = sorted(set(skipped_task_ids) - {ident.task_id})
    row_only = not skipped and state not in _STATES_WITH_SIDE_EFFECTS
    if row_only and not (state == TaskInstanceState.SUCCESS and has_outlets):
        if _on_postgresql(sessions) and len(xcoms) <= 1:
            return _record_in_one_statement(sessions, ident, params, xcoms)
    with transaction(sessions, sqlite_begin="IMMEDIATE") as session:
        if _rowcount(session.execute(_RECORD, params)) != 1:
            return False
        if xcoms:
            ti_key = {name: getattr(ident, name) for name in TI_KEY}
            write_xcoms(session, ti_key, xcoms)
        if state == TaskInstanceState.UP_FOR_RETRY:
            _archive(session, ident, as_state=TaskInstanceState.FAILED)
        if skipped:
            _skip(session, ident, skipped, end_date)
        if state == TaskInstanceState.UP_FOR_RESCHEDULE and reschedule_at is not None:
            _add_reschedule(session, ident, start_date, end_date, reschedule_at)
        if state == TaskInstanceState.SUCCESS and has_outlets:
            source = TaskSource(ident.dag_id, ident.task_id, ident.run_id, ident.map_index)
            register_outlet_events(session, source, now=end_date)
    return True


#: Outcomes whose record writes more than the task instance's row (and its return value).
_STATES_WITH_SIDE_EFFECTS = (TaskInstanceState.UP_FOR_RETRY, TaskInstanceState.UP_FOR_RESCHEDULE)

# PostgreSQL records most tries in one statement, committed on its own: the guarded
# UPDATE and, from its RETURNING, the try's return value. A key the try also pushed gets
# a new id (``SET id = DEFAULT``), as a delete and insert would: "newest first" is id order.
# (Inside a CTE the column's onupdate default is not applied: ``updated_at`` is set here.)
_RECORDED = _RECORD.values(updated_at=sa.bindparam("p_end")).returning(_T.c.id).cte("recorded")
_XCOM_COLUMNS = ("dag_id", "run_id", "task_id", "map_index", "key", "value", "timestamp")
_WRITTEN = (
    postgresql.insert(_XCOM)
    .from_select(
        list(_XCOM_COLUMNS),
        sa.select(
            *(sa.bindparam(f"x_{name}", type_=_XCOM.c[name].type) for name in _XCOM_COLUMNS)
        ).select_from(_RECORDED),
    )
    .on_conflict_do_update(
        constraint="uq_xcom_ti_key",
        set_={
            "id": sa.text("DEFAULT"),
            "value": sa.text("excluded.value"),
            "timestamp": sa.text("excluded.timestamp"),
        },
    )
    .returning(_XCOM.c.id)
    .cte("written")
)
# Rows recorded (0 when the guard failed: then nothing was written) and XComs written; the
# second count is what puts the INSERT in the statement (SQLAlchemy renders a CTE only
# where it is used).
_RECORD_WITH_XCOM = sa.select(
    sa.select(sa.func.count()).select_from(_RECORDED).scalar_subquery(),
    sa.select(sa.func.count()).select_from(_WRITTEN).scalar_subquery(),
)


def _record_in_one_statement(
    sessions: sessionmaker[Session],
    ident: TryIdentity,
    params: dict[str, Any],
    xcoms: tuple[tuple[str, Any], ...],
) -> bool:
    """``record_try`` for an outcome that writes the row and at most one XCom."""
    with _single_statement(sessions) as session:
        if not xcoms:
            return _rowcount(session.execute(_RECORD, params)) == 1
        (key, value), now = xcoms[0], datetime.now(UTC)
        ti_key = {f"x_{name}": getattr(ident, name) for name in TI_KEY}
        row = session.execute(
            _RECORD_WITH_XCOM,
            {**params, **ti_key, "x_key": key, "x_value": value, "x_timestamp": now},
        ).one()
        return bool(row[0] == 1)


#: Columns copied from a task instance to its archived try (all but the history's own id).
_HISTORY_COLUMNS = tuple(
    column.key for column in TaskInstanceHistoryRow.__table__.columns if column.key != "id"
)


def _archive(session: Session, ident: TryIdentity, *, as_state: TaskInstanceState) -> None:
    values = [
        sa.literal(as_state.value).label("state") if name == "state" else getattr(_TI, name)
        for name in _HISTORY_COLUMNS
    ]
    history = TaskInstanceHistoryRow
    already = sa.exists().where(
        history.dag_id == ident.dag_id,
        history.run_id == ident.run_id,
        history.task_id == ident.task_id,
        history.map_index == ident.map_index,
        history.try_number == ident.try_number,
    )
    session.execute(
        sa.insert(history).from_select(
            list(_HISTORY_COLUMNS), sa.select(*values).where(_TI.id == ident.ti_id, ~already)
        )
    )


def _skip(session: Session, ident: TryIdentity, task_ids: list[str], now: datetime) -> None:
    session.execute(
        sa.update(_TI)
        .where(
            _TI.dag_id == ident.dag_id,
            _TI.run_id == ident.run_id,
            _TI.task_id.in_(task_ids),
            _TI.state.is_(None) | _TI.state.in_(_NOT_STARTED),
        )
        .values(state=TaskInstanceState.SKIPPED.value, start_date=now, end_date=now, duration=0.0)
    )


def _add_reschedule(
    session: Session, ident: TryIdentity, start: datetime, end: datetime, when: datetime
) -> None:
    session.add(
        TaskRescheduleRow(
            dag_id=ident.dag_id,
            run_id=ident.run_id,
            task_id=ident.task_id,
            map_index=ident.map_index,
            try_number=ident.try_number,
            start_date=start,
            end_date=end,
            duration=max((end - start).total_seconds(), 0.0),
            reschedule_date=when,
        )
    )
