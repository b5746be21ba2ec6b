"""DAGs as the DAG processor recorded them (API ``/dags``, ``/dagStats``, ``/dagSources``;
CLI ``dags list``)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any, TypedDict, Unpack, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, lazyload, selectinload

from tradewind.errors import NotFound
from tradewind.storage.pagination import (
    DEFAULT_LIMIT,
    Page,
    bounded,
    counting,
    paginate,
    paginate_built,
)
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


class DagFilters(TypedDict, total=False):
    """What a list of DAGs may be narrowed by, and its order.

    Attributes:
        only_active: keep only active DAGs (the default: True).
        paused: keep only paused (True) or unpaused (False) DAGs; None: both.
        tags: keep DAGs carrying any of these tags (none given: no tag filter).
        dag_id_pattern: keep dag_ids matching ``%pattern%`` (SQL ``LIKE`` wildcards
            allowed, case-insensitive), as Airflow does.
        dag_ids: keep only these DAGs (the ones a user may see); None: every DAG.
        order_by: a column of :data:`ORDERABLE` (``-name`` descending); ``dag_id`` when
            None.
    """

    only_active: bool
    paused: bool | None
    tags: Sequence[str]
    dag_id_pattern: str | None
    dag_ids: Collection[str] | None
    order_by: str | None


def list_dags(
    session: Session,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    **filters: Unpack[DagFilters],
) -> Page[DagRow]:
    """DAGs narrowed and ordered by ``filters``, with their tags loaded in one extra query
    (not one per DAG).

    Raises:
        InvalidInput: ``order_by`` names a column not in :data:`ORDERABLE`.
    """
    # Tags in one extra query; owner links are not shown in lists, so not loaded at all.
    loading = (selectinload(DagRow.tags), lazyload(DagRow.owner_links))
    query = _listed(sa.select(DagRow).options(*loading), filters)
    return paginate(session, query, limit=limit, offset=offset)


#: The ``dag`` columns a DAG list shows (API ``DAG``), read by :func:`list_dag_records`.
LISTED_COLUMNS: tuple[sa.ColumnElement[Any], ...] = tuple(
    DagRow.__table__.c[name]
    for name in (
        "dag_id",
        "dag_display_name",
        "is_paused",
        "is_active",
        "last_parsed_time",
        "last_expired",
        "default_view",
        "fileloc",
        "owners",
        "description",
        "schedule_interval",
        "timetable_description",
        "max_active_tasks",
        "max_active_runs",
        "has_task_concurrency_limits",
        "has_import_errors",
        "next_dagrun",
        "next_dagrun_data_interval_start",
        "next_dagrun_data_interval_end",
        "next_dagrun_create_after",
        "max_consecutive_failed_dag_runs",
    )
)


def list_dag_records(
    session: Session,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    **filters: Unpack[DagFilters],
) -> Page[sa.Row[Any]]:
    """What :func:`list_dags` lists, as plain rows of :data:`LISTED_COLUMNS` (no ORM
    objects, no tags: see :func:`tag_names`), for lists that only show them: building
    a hundred ORM objects and their tag collections costs more than the queries.

    The common list (active DAGs by ``dag_id``, every DAG visible) runs statements built
    once; any other filter or order builds its own.

    Raises:
        InvalidInput: ``order_by`` names a column not in :data:`ORDERABLE`.
    """
    if _is_plain(filters):
        page, count = _ACTIVE_PAGE, _ACTIVE_COUNT
    else:
        query = _listed(sa.select(*LISTED_COLUMNS), filters)
        page, count = bounded(query), counting(query)
    return paginate_built(session, page, count, limit=limit, offset=offset)


def _is_plain(filters: DagFilters) -> bool:
    """Whether ``filters`` ask for the default list: every active DAG, by ``dag_id``."""
    return (
        filters.get("only_active", True)
        and filters.get("paused") is None
        and not filters.get("tags")
        and not filters.get("dag_id_pattern")
        and filters.get("dag_ids") is None
        and filters.get("order_by") in (None, "", "dag_id")
    )


def tag_names(session: Session, dag_ids: Collection[str]) -> dict[str, list[str]]:
    """The tag names of each of ``dag_ids`` (sorted; a DAG without tags is left out), in
    one query."""
    if not dag_ids:
        return {}
    names: dict[str, list[str]] = {}
    statement = _TAG_NAMES[session.get_bind().dialect.name]
    found = session.connection().execute(statement, {"dag_ids": json.dumps(list(dag_ids))})
    for dag_id, name in found:
        names.setdefault(dag_id, []).append(name)
    return names


def _tag_names_of(ids: sa.TableValuedAlias) -> sa.Select[str, str]:
    """The ``(dag_id, name)`` of the tags of the DAGs ``ids`` (a table of one column,
    ``value``), ordered."""
    return (
        sa.select(DagTagRow.dag_id, DagTagRow.name)
        .where(DagTagRow.dag_id.in_(sa.select(ids.c.value)))
        .order_by(DagTagRow.dag_id, DagTagRow.name)
    )


_DAG_IDS = sa.bindparam("dag_ids", type_=sa.String)

#: Per dialect, the tags of the DAGs whose ids are one bound JSON array: expanding a
#: hundred bound ids cost SQLAlchemy as much as SQLite's whole query.
_TAG_NAMES: dict[str, sa.Select[str, str]] = {
    "sqlite": _tag_names_of(sa.func.json_each(_DAG_IDS).table_valued("value")),
    "postgresql": _tag_names_of(
        sa.func.json_array_elements_text(sa.cast(_DAG_IDS, sa.JSON)).table_valued("value")
    ),
}


def _listed(query: sa.Select[Any], filters: DagFilters) -> sa.Select[Any]:
    """``query`` over ``dag`` narrowed and ordered by ``filters``."""
    order_by = filters.get("order_by") or "dag_id"
    query = query.order_by(*order_clauses(DagRow, order_by, ORDERABLE, tiebreak=("dag_id",)))
    if filters.get("only_active", True):
        query = query.where(DagRow.is_active.is_(True))
    paused = filters.get("paused")
    if paused is not None:
        query = query.where(DagRow.is_paused.is_(paused))
    tags = filters.get("tags")
    if tags:
        tagged = sa.select(DagTagRow.dag_id).where(DagTagRow.name.in_(list(tags)))
        query = query.where(DagRow.dag_id.in_(tagged))
    pattern = filters.get("dag_id_pattern")
    if pattern:
        query = query.where(DagRow.dag_id.ilike(f"%{pattern}%"))
    dag_ids = filters.get("dag_ids")
    if dag_ids is not None:
        query = query.where(DagRow.dag_id.in_(list(dag_ids)))
    return query


#: The page and count of the common list (see :func:`list_dag_records`), built once.
_ACTIVE_PAGE = bounded(_listed(sa.select(*LISTED_COLUMNS), {}))
_ACTIVE_COUNT = counting(_listed(sa.select(*LISTED_COLUMNS), {}))


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
