"""DAGs as the DAG processor recorded them (API ``/dags``, ``/dagStats``, ``/dagSources``;
CLI ``dags list``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, lazyload, selectinload

from tradewind.errors import NotFound
from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate
from tradewind.storage.repositories._queries import order_clauses
from tradewind.storage.tables import (
    DagCodeRow,
    DagRow,
    DagRunRow,
    DagTagRow,
    ImportErrorRow,
    LogRow,
    SerializedDagRow,
    TaskInstanceRow,
)

#: Columns ``list_dags`` may order by: Airflow's ``dag_id``, and a few more a UI sorts by.
ORDERABLE = ("dag_id", "dag_display_name", "is_paused", "last_parsed_time", "next_dagrun")


def get_dag(session: Session, dag_id: str) -> DagRow | None:
    return session.get(DagRow, dag_id)


def require_dag(session: Session, dag_id: str) -> DagRow:
    """Raises NotFound when no DAG ``dag_id`` was ever parsed."""
    dag = get_dag(session, dag_id)
    if dag is None:
        raise NotFound(f"DAG with dag_id: '{dag_id}' not found")
    return dag


def list_dags(
    session: Session,
    *,
    only_active: bool = True,
    paused: bool | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    tags: Sequence[str] = (),
    dag_id_pattern: str | None = None,
    dag_ids: Collection[str] | None = None,
    order_by: str | None = None,
) -> Page[DagRow]:
    """DAGs ordered by ``order_by`` (``dag_id`` when None), with their tags loaded in one
    extra query (not one per DAG).

    Args:
        tags: keep DAGs carrying any of these tags (none given: no tag filter).
        dag_id_pattern: keep dag_ids matching ``%pattern%`` (SQL ``LIKE`` wildcards
            allowed, case-insensitive), as Airflow does.
        dag_ids: keep only these DAGs (the ones a user may see); None: every DAG.

    Raises:
        InvalidInput: ``order_by`` names a column not in :data:`ORDERABLE`.
    """
    order = order_clauses(DagRow, order_by or "dag_id", ORDERABLE, tiebreak=("dag_id",))
    # Tags in one extra query; owner links are not shown in lists, so not loaded at all.
    loading = (selectinload(DagRow.tags), lazyload(DagRow.owner_links))
    query = sa.select(DagRow).options(*loading).order_by(*order)
    if only_active:
        query = query.where(DagRow.is_active.is_(True))
    if paused is not None:
        query = query.where(DagRow.is_paused.is_(paused))
    if tags:
        tagged = sa.select(DagTagRow.dag_id).where(DagTagRow.name.in_(list(tags)))
        query = query.where(DagRow.dag_id.in_(tagged))
    if dag_id_pattern:
        query = query.where(DagRow.dag_id.ilike(f"%{dag_id_pattern}%"))
    if dag_ids is not None:
        query = query.where(DagRow.dag_id.in_(list(dag_ids)))
    return paginate(session, query, limit=limit, offset=offset)


def set_paused(session: Session, dag_id: str, is_paused: bool) -> DagRow:
    """Pause or unpause a DAG; raises NotFound for an unknown DAG."""
    dag = require_dag(session, dag_id)
    dag.is_paused = is_paused
    session.flush()
    return dag


def set_paused_many(session: Session, dag_ids: Collection[str], is_paused: bool) -> None:
    """Pause or unpause the DAGs ``dag_ids`` in one statement (unknown ids: ignored)."""
    if dag_ids:
        session.execute(
            sa.update(DagRow)
            .where(DagRow.dag_id.in_(list(dag_ids)))
            .values(is_paused=is_paused)
            .execution_options(synchronize_session="fetch")
        )


def get_serialized_dag(session: Session, dag_id: str) -> SerializedDagRow | None:
    return session.scalar(sa.select(SerializedDagRow).where(SerializedDagRow.dag_id == dag_id))


def dag_ids_of_file(session: Session, fileloc: str) -> list[str]:
    """The DAGs defined in ``fileloc`` (as recorded: active or not)."""
    return list(
        session.scalars(
            sa.select(DagRow.dag_id).where(DagRow.fileloc == fileloc).order_by(DagRow.dag_id)
        )
    )


def get_source_code(session: Session, fileloc: str) -> str | None:
    """The source of ``fileloc`` as the DAG processor last stored it; None if it has none."""
    row = session.get(DagCodeRow, DagCodeRow.hash_fileloc(fileloc))
    return row.source_code if row is not None else None


def existing_dag_ids(session: Session, dag_ids: Collection[str]) -> set[str]:
    """Those of ``dag_ids`` that name a known DAG."""
    if not dag_ids:
        return set()
    return set(session.scalars(sa.select(DagRow.dag_id).where(DagRow.dag_id.in_(list(dag_ids)))))


def count_runs_by_state(session: Session, dag_ids: Collection[str]) -> dict[tuple[str, str], int]:
    """Runs per ``(dag_id, state)`` of the DAGs ``dag_ids``, in one grouped query."""
    if not dag_ids:
        return {}
    query = (
        sa.select(DagRunRow.dag_id, DagRunRow.state, sa.func.count())
        .where(DagRunRow.dag_id.in_(list(dag_ids)))
        .group_by(DagRunRow.dag_id, DagRunRow.state)
    )
    return {(dag_id, str(state)): int(count) for dag_id, state, count in session.execute(query)}


def has_running_task_instances(session: Session, dag_id: str) -> bool:
    query = sa.select(TaskInstanceRow.id).where(
        TaskInstanceRow.dag_id == dag_id, TaskInstanceRow.state == "running"
    )
    return session.scalar(query.limit(1)) is not None


def delete_dag_rows(session: Session, dag_id: str) -> int:
    """Delete every row about ``dag_id``, keeping the audit log, as Airflow's ``delete_dag``.

    That is every table with a ``dag_id`` column (runs, task instances and their
    history, XComs, reschedules, serialized DAG, tags, warnings, ...; tables added later
    are included without a change here) except ``log``, plus queued dataset events for
    the DAG and the import errors of its file. Children are deleted before their
    parents, so no foreign key is ever violated. Returns the number of rows deleted.
    """
    fileloc = session.scalar(sa.select(DagRow.fileloc).where(DagRow.dag_id == dag_id))
    deleted = 0
    for table in reversed(DagRow.metadata.sorted_tables):
        if table.name == LogRow.__tablename__:
            continue
        for name in ("dag_id", "target_dag_id"):
            if name in table.c:
                statement = sa.delete(table).where(table.c[name] == dag_id)
                deleted += cast(CursorResult[Any], session.execute(statement)).rowcount
    if fileloc:
        session.execute(sa.delete(ImportErrorRow).where(ImportErrorRow.filename == fileloc))
    session.expire_all()
    return deleted
