"""Task instances, their archived tries and their reschedules.

Storage may not import the SDK or serialization (see :mod:`tradewind.storage`), so
:func:`create_task_instances` takes any object shaped like a serialized DAG
(:class:`DagTasks`); :class:`tradewind.serialization.SerializedDAG` is one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import NotFound
from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate
from tradewind.storage.repositories._queries import order_clauses, where_between
from tradewind.storage.tables import (
    DagRunRow,
    TaskInstanceHistoryRow,
    TaskInstanceRow,
    TaskRescheduleRow,
)
from tradewind.storage.tables.task_instance import TI_KEY

#: Columns a list of task instances may be ordered by (``-name`` for descending).
ORDERABLE = (
    "id",
    "dag_id",
    "run_id",
    "task_id",
    "map_index",
    "state",
    "try_number",
    "start_date",
    "end_date",
    "duration",
    "pool",
    "queue",
    "priority_weight",
    "updated_at",
)

#: Rows per statement when a query names many task instances: keeps every IN list (and
#: its bound parameters) far below SQLite's and PostgreSQL's limits.
CHUNK = 500

#: Columns copied when a try is archived: all shared ones except the surrogate key.
_TRY_COLUMNS = tuple(
    column.key for column in TaskInstanceHistoryRow.__table__.columns if column.key != "id"
)


class TaskSpec(Protocol):
    """What creating a task instance needs to know about its task."""

    @property
    def task_id(self) -> str: ...
    @property
    def task_type(self) -> str: ...
    @property
    def custom_operator_name(self) -> str | None: ...
    @property
    def task_display_name(self) -> str | None: ...
    @property
    def retries(self) -> int: ...
    @property
    def pool(self) -> str: ...
    @property
    def pool_slots(self) -> int: ...
    @property
    def queue(self) -> str: ...
    @property
    def executor(self) -> str | None: ...
    @property
    def executor_config(self) -> Mapping[str, Any]: ...


class DagTasks(Protocol):
    """The tasks of a DAG and their effective priorities."""

    @property
    def tasks(self) -> Sequence[TaskSpec]: ...
    def priority_weights(self) -> Mapping[str, int]: ...


def task_columns(task: TaskSpec, priority_weight: int) -> dict[str, Any]:
    """The task instance columns that come from the task's definition.

    Written when a task instance is created and again when it is cleared (Airflow's
    ``refresh_from_task``), so a re-run uses the DAG's current pool, queue and weight.
    """
    return {
        "pool": task.pool,
        "pool_slots": task.pool_slots,
        "queue": task.queue,
        "priority_weight": priority_weight,
        "operator": task.task_type,
        "custom_operator_name": task.custom_operator_name,
        "task_display_name": task.task_display_name,
        "executor": task.executor,
        "executor_config": dict(task.executor_config) or None,
    }


def create_task_instances(session: Session, run: DagRunRow, dag: DagTasks) -> int:
    """Create the missing task instances of ``run``, one per task, in one bulk INSERT.

    Each starts as Airflow's: state NULL, ``try_number`` 0, ``max_tries`` = the task's
    retries. Mapped tasks get one instance at map index -1, expanded once their input
    is known. Tasks that already have an instance in the run are skipped, so calling
    this again after the DAG gained tasks adds only the new ones.

    Returns:
        How many task instances were inserted.
    """
    existing = set(
        session.scalars(
            sa.select(TaskInstanceRow.task_id).where(
                TaskInstanceRow.dag_id == run.dag_id, TaskInstanceRow.run_id == run.run_id
            )
        )
    )
    weights = dag.priority_weights()
    rows = [
        {
            "dag_id": run.dag_id,
            "run_id": run.run_id,
            "task_id": task.task_id,
            "map_index": -1,
            "try_number": 0,
            "max_tries": task.retries,
            "state": None,
            **task_columns(task, weights.get(task.task_id, 1)),
        }
        for task in dag.tasks
        if task.task_id not in existing
    ]
    if rows:
        session.execute(sa.insert(TaskInstanceRow), rows)
    return len(rows)


def get_task_instance(
    session: Session, dag_id: str, run_id: str, task_id: str, map_index: int = -1
) -> TaskInstanceRow | None:
    return session.scalar(
        sa.select(TaskInstanceRow).where(
            TaskInstanceRow.dag_id == dag_id,
            TaskInstanceRow.run_id == run_id,
            TaskInstanceRow.task_id == task_id,
            TaskInstanceRow.map_index == map_index,
        )
    )


def require_task_instance(
    session: Session, dag_id: str, run_id: str, task_id: str, map_index: int = -1
) -> TaskInstanceRow:
    """Raises NotFound naming the DAG, run, task and map index."""
    ti = get_task_instance(session, dag_id, run_id, task_id, map_index)
    if ti is None:
        suffix = "" if map_index < 0 else f" (map index {map_index})"
        raise NotFound(
            f"Task instance '{task_id}'{suffix} not found in DAGRun '{run_id}' of DAG '{dag_id}'"
        )
    return ti


def update_note(
    session: Session, dag_id: str, run_id: str, task_id: str, map_index: int, note: str | None
) -> TaskInstanceRow:
    """Set (or, with None, remove) the user's note on one task instance.

    Raises:
        NotFound: no such task instance.
    """
    ti = require_task_instance(session, dag_id, run_id, task_id, map_index)
    ti.note = note
    session.flush()
    return ti


def list_task_instances(
    session: Session,
    dag_id: str | None = None,
    run_id: str | None = None,
    *,
    dag_ids: Collection[str] | None = None,
    run_ids: Collection[str] | None = None,
    task_ids: Sequence[str] | None = None,
    map_index: int | None = None,
    mapped_only: bool = False,
    states: Sequence[str | None] | None = None,
    pools: Sequence[str] | None = None,
    queues: Sequence[str] | None = None,
    executors: Sequence[str] | None = None,
    logical_date_gte: datetime | None = None,
    logical_date_lte: datetime | None = None,
    start_date_gte: datetime | None = None,
    start_date_lte: datetime | None = None,
    end_date_gte: datetime | None = None,
    end_date_lte: datetime | None = None,
    updated_at_gte: datetime | None = None,
    updated_at_lte: datetime | None = None,
    duration_gte: float | None = None,
    duration_lte: float | None = None,
    order_by: str = "id",
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[TaskInstanceRow]:
    """Task instances, filtered; None filters are not applied, empty sequences match nothing.

    ``states`` may hold None for Airflow's ``none`` state (``state IS NULL``). Logical
    date bounds are those of each instance's run (joined, not one query per run).
    ``mapped_only`` keeps the expansions of mapped tasks (``map_index >= 0``).

    Raises:
        InvalidInput: unknown ``order_by`` column, or negative limit/offset.
    """
    ti = TaskInstanceRow
    query = sa.select(ti)
    if dag_id is not None:
        query = query.where(ti.dag_id == dag_id)
    if run_id is not None:
        query = query.where(ti.run_id == run_id)
    if map_index is not None:
        query = query.where(ti.map_index == map_index)
    if mapped_only:
        query = query.where(ti.map_index >= 0)
    for column, values in (
        (ti.dag_id, dag_ids),
        (ti.run_id, run_ids),
        (ti.task_id, task_ids),
        (ti.pool, pools),
        (ti.queue, queues),
        (ti.executor, executors),
    ):
        if values is not None:
            query = query.where(column.in_(sorted(values)))
    if states is not None:
        query = query.where(state_in(states))
    if logical_date_gte is not None or logical_date_lte is not None:
        query = query.join(
            DagRunRow, sa.and_(DagRunRow.dag_id == ti.dag_id, DagRunRow.run_id == ti.run_id)
        )
        query = where_between(query, DagRunRow.logical_date, logical_date_gte, logical_date_lte)
    query = where_between(query, ti.start_date, start_date_gte, start_date_lte)
    query = where_between(query, ti.end_date, end_date_gte, end_date_lte)
    query = where_between(query, ti.duration, duration_gte, duration_lte)
    query = where_between(query, ti.updated_at, updated_at_gte, updated_at_lte)
    query = query.order_by(*order_clauses(ti, order_by, ORDERABLE))
    return paginate(session, query, limit=limit, offset=offset)


def state_in(states: Iterable[str | None]) -> sa.ColumnElement[bool]:
    """``task_instance.state`` is one of ``states``, where None matches NULL."""
    wanted = set(states)
    named = sorted(state for state in wanted if state is not None)
    clauses: list[sa.ColumnElement[bool]] = []
    if named:
        clauses.append(TaskInstanceRow.state.in_(named))
    if None in wanted:
        clauses.append(TaskInstanceRow.state.is_(None))
    return sa.or_(*clauses) if clauses else sa.false()


def tis_of_run(session: Session, dag_id: str, run_id: str) -> list[TaskInstanceRow]:
    """Every task instance of one run, ordered by task id then map index."""
    return list(
        session.scalars(
            sa.select(TaskInstanceRow)
            .where(TaskInstanceRow.dag_id == dag_id, TaskInstanceRow.run_id == run_id)
            .order_by(TaskInstanceRow.task_id, TaskInstanceRow.map_index)
        )
    )


def archive_tries(
    session: Session,
    tis: Sequence[TaskInstanceRow],
    *,
    overrides: Callable[[TaskInstanceRow], Mapping[str, Any]] | None = None,
) -> int:
    """Copy the current try of each of ``tis`` into ``task_instance_history``.

    Idempotent, as Airflow's ``TaskInstanceHistory.record_ti``: a try already archived
    (same key and ``try_number``) is skipped, so a retry path and a clear may both
    archive the same try. Instances that never ran (``try_number`` 0) have no try to
    keep and are skipped. One SELECT and one bulk INSERT per :data:`CHUNK` instances.

    Args:
        overrides: column values to archive instead of the live ones (an unfinished
            try is archived as ``failed``, say), computed per instance.

    Returns:
        How many tries were archived.
    """
    archived = 0
    candidates = [ti for ti in tis if ti.try_number > 0]
    for start in range(0, len(candidates), CHUNK):
        chunk = candidates[start : start + CHUNK]
        keys = [(*_key(ti), ti.try_number) for ti in chunk]
        history = TaskInstanceHistoryRow
        columns = [getattr(history, name) for name in TI_KEY] + [history.try_number]
        found = session.execute(sa.select(*columns).where(sa.tuple_(*columns).in_(keys)))
        done = {tuple(row) for row in found}
        rows = []
        for ti, key in zip(chunk, keys, strict=True):
            if key in done:
                continue
            values = {name: getattr(ti, name) for name in _TRY_COLUMNS}
            if overrides is not None:
                values.update(overrides(ti))
            rows.append(values)
        if rows:
            session.execute(sa.insert(TaskInstanceHistoryRow), rows)
        archived += len(rows)
    return archived


def archive_try(session: Session, ti: TaskInstanceRow, **overrides: Any) -> bool:
    """Archive the current try of one task instance (see :func:`archive_tries`).

    Returns:
        Whether a history row was written.
    """
    return archive_tries(session, [ti], overrides=lambda _ti: overrides) == 1


def list_tries(
    session: Session, dag_id: str, run_id: str, task_id: str, map_index: int = -1
) -> list[TaskInstanceHistoryRow]:
    """The archived tries of one task instance, oldest first."""
    history = TaskInstanceHistoryRow
    return list(
        session.scalars(
            sa.select(history)
            .where(
                history.dag_id == dag_id,
                history.run_id == run_id,
                history.task_id == task_id,
                history.map_index == map_index,
            )
            .order_by(history.try_number)
        )
    )


def list_all_tries(
    session: Session, dag_id: str, run_id: str, task_id: str, map_index: int = -1
) -> list[TaskInstanceHistoryRow | TaskInstanceRow]:
    """Every try of one task instance, oldest first: the archived ones, then the current row.

    The current row is left out when its try number is already archived: a cleared or
    ``up_for_retry`` instance keeps the number of its archived try until the next try
    starts, and listing both would show that try twice (Airflow 2.10.4 fixed the same
    duplicate for ``up_for_retry``). A row that never ran is listed as try 0.

    Raises:
        NotFound: no such task instance.
    """
    current = require_task_instance(session, dag_id, run_id, task_id, map_index)
    tries: list[TaskInstanceHistoryRow | TaskInstanceRow] = []
    tries.extend(list_tries(session, dag_id, run_id, task_id, map_index))
    if current.try_number not in {row.try_number for row in tries}:
        tries.append(current)
    return tries


def require_try(
    session: Session, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
) -> TaskInstanceHistoryRow | TaskInstanceRow:
    """Try ``try_number`` of one task instance, as :func:`list_all_tries` lists it.

    Raises:
        NotFound: no such task instance, or it has no such try.
    """
    for row in list_all_tries(session, dag_id, run_id, task_id, map_index):
        if row.try_number == try_number:
            return row
    raise NotFound(
        f"Task Instance not found for dag_id={dag_id}, run_id={run_id}, task_id={task_id},"
        f" map_index={map_index}, try_number={try_number}."
    )


def delete_reschedules(session: Session, tis: Sequence[TaskInstanceRow]) -> None:
    """Forget the sensor reschedules of the current try of each of ``tis``.

    Cleared sensors must start their ``timeout`` afresh, as Airflow's clear does.
    """
    reschedule = TaskRescheduleRow
    columns = [getattr(reschedule, name) for name in TI_KEY] + [reschedule.try_number]
    for start in range(0, len(tis), CHUNK):
        keys = [(*_key(ti), ti.try_number) for ti in tis[start : start + CHUNK]]
        session.execute(sa.delete(reschedule).where(sa.tuple_(*columns).in_(keys)))


def _key(ti: TaskInstanceRow) -> tuple[str, str, str, int]:
    return (ti.dag_id, ti.run_id, ti.task_id, ti.map_index)
