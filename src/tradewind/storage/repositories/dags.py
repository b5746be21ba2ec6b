"""DAGs as the DAG processor recorded them (API ``/dags``, CLI ``dags list``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from tradewind.errors import NotFound
from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate
from tradewind.storage.tables import DagRow, SerializedDagRow


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
) -> Page[DagRow]:
    """DAGs ordered by id, with their tags loaded in one extra query (not one per DAG)."""
    query = sa.select(DagRow).options(selectinload(DagRow.tags)).order_by(DagRow.dag_id)
    if only_active:
        query = query.where(DagRow.is_active.is_(True))
    if paused is not None:
        query = query.where(DagRow.is_paused.is_(paused))
    return paginate(session, query, limit=limit, offset=offset)


def set_paused(session: Session, dag_id: str, is_paused: bool) -> DagRow:
    """Pause or unpause a DAG; raises NotFound for an unknown DAG."""
    dag = require_dag(session, dag_id)
    dag.is_paused = is_paused
    session.flush()
    return dag


def get_serialized_dag(session: Session, dag_id: str) -> SerializedDagRow | None:
    return session.scalar(sa.select(SerializedDagRow).where(SerializedDagRow.dag_id == dag_id))
