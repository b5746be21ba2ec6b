"""Import errors of DAG files (API ``/importErrors``, CLI ``dags list-import-errors``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate
from tradewind.storage.tables import ImportErrorRow


def list_import_errors(
    session: Session, *, limit: int = DEFAULT_LIMIT, offset: int = 0
) -> Page[ImportErrorRow]:
    """Import errors ordered by file name, then id."""
    query = sa.select(ImportErrorRow).order_by(ImportErrorRow.filename, ImportErrorRow.id)
    return paginate(session, query, limit=limit, offset=offset)
