"""DAG warnings: problems of a DAG that are not import errors (API ``/dagWarnings``)."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate
from tradewind.storage.repositories._queries import order_clauses
from tradewind.storage.tables import DagWarningRow

#: Columns ``list_dag_warnings`` may order by (Airflow's).
ORDERABLE = ("dag_id", "warning_type", "message", "timestamp")


def list_dag_warnings(
    session: Session,
    *,
    dag_id: str | None = None,
    warning_type: str | None = None,
    dag_ids: Collection[str] | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    order_by: str | None = None,
) -> Page[DagWarningRow]:
    """Warnings ordered by ``order_by`` (``timestamp`` when None, as Airflow).

    Args:
        dag_id, warning_type: keep only warnings of this DAG / of this kind.
        dag_ids: keep only warnings of these DAGs (those a user may see); None: all.

    Raises:
        InvalidInput: ``order_by`` names a column not in :data:`ORDERABLE`.
    """
    order = order_clauses(
        DagWarningRow, order_by or "timestamp", ORDERABLE, tiebreak=("dag_id", "warning_type")
    )
    query = sa.select(DagWarningRow).order_by(*order)
    if dag_id is not None:
        query = query.where(DagWarningRow.dag_id == dag_id)
    if warning_type is not None:
        query = query.where(DagWarningRow.warning_type == warning_type)
    if dag_ids is not None:
        query = query.where(DagWarningRow.dag_id.in_(list(dag_ids)))
    return paginate(session, query, limit=limit, offset=offset)
