"""Import errors of DAG files (API ``/importErrors``, CLI ``dags list-import-errors``).

An import error belongs to a file, not to a DAG; the DAGs a file defined (``dag.fileloc``)
are what per-DAG permissions are checked against (:func:`dag_ids_by_file`).
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import NotFound
from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate
from tradewind.storage.repositories._queries import order_clauses
from tradewind.storage.tables import DagRow, ImportErrorRow

#: Columns ``list_import_errors`` may order by (Airflow's).
ORDERABLE = ("id", "timestamp", "filename")


def get_import_error(session: Session, import_error_id: int) -> ImportErrorRow | None:
    return session.get(ImportErrorRow, import_error_id)


def require_import_error(session: Session, import_error_id: int) -> ImportErrorRow:
    """Raises NotFound when there is no import error ``import_error_id``."""
    error = get_import_error(session, import_error_id)
    if error is None:
        raise NotFound(f"The ImportError with import_error_id: `{import_error_id}` was not found")
    return error


def list_import_errors(
    session: Session,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    order_by: str | None = None,
    dag_ids: Collection[str] | None = None,
) -> Page[ImportErrorRow]:
    """Import errors, by file name then id unless ``order_by`` (``-timestamp``) says.

    Args:
        dag_ids: keep only errors of files that defined one of these DAGs (the DAGs a
            user may read); None keeps all.

    Raises:
        InvalidInput: ``order_by`` names a column not in :data:`ORDERABLE`.
    """
    order = order_clauses(ImportErrorRow, order_by or "filename", ORDERABLE)
    query = sa.select(ImportErrorRow).order_by(*order)
    if dag_ids is not None:
        files = sa.select(DagRow.fileloc).where(DagRow.dag_id.in_(list(dag_ids)))
        query = query.where(ImportErrorRow.filename.in_(files))
    return paginate(session, query, limit=limit, offset=offset)


def dag_ids_by_file(session: Session, filenames: Collection[str]) -> dict[str, set[str]]:
    """The DAG ids each of ``filenames`` defined (active or not), in one query.

    A file that defined no DAG is absent from the result.
    """
    if not filenames:
        return {}
    query = sa.select(DagRow.fileloc, DagRow.dag_id).where(DagRow.fileloc.in_(list(filenames)))
    found: dict[str, set[str]] = {}
    for fileloc, dag_id in session.execute(query):
        found.setdefault(str(fileloc), set()).add(dag_id)
    return found
