"""``/importErrors``: DAG files that failed to import, narrowed to the DAGs one may read."""

from __future__ import annotations

from fastapi import APIRouter, Response

from tradewind.api.deps import DbDep, PageDep, PrincipalDep, requires
from tradewind.api.model_response import model_response
from tradewind.api.ordering import column_order
from tradewind.api.schemas.base import DbInt
from tradewind.api.schemas.import_error import (
    COLUMNS,
    ImportError,
    ImportErrorCollection,
    hides_trace,
)
from tradewind.errors import PermissionDenied
from tradewind.security.permissions import IMPORT_ERROR, READ
from tradewind.storage.repositories import import_errors

router = APIRouter(tags=["ImportError"])


@router.get(
    "/importErrors",
    name="get_import_errors",
    dependencies=[requires(READ, IMPORT_ERROR)],
    response_model=ImportErrorCollection,
)
def get_import_errors(db: DbDep, page: PageDep, principal: PrincipalDep) -> Response:
    readable = principal.grants.dag_filter(READ)
    with db.read() as session:
        found = import_errors.list_import_errors(
            session,
            limit=page.limit,
            offset=page.offset,
            order_by=column_order(page.order_by, COLUMNS) or "id",
            dag_ids=readable,
        )
        files = [row.filename for row in found.items] if readable is not None else []
        dags_of_file = import_errors.dag_ids_by_file(session, files)
        return model_response(
            ImportErrorCollection.from_page(found, readable=readable, dags_of_file=dags_of_file)
        )


@router.get(
    "/importErrors/{import_error_id}",
    name="get_import_error",
    dependencies=[requires(READ, IMPORT_ERROR)],
)
def get_import_error(import_error_id: DbInt, db: DbDep, principal: PrincipalDep) -> ImportError:
    readable = principal.grants.dag_filter(READ)
    with db.read() as session:
        row = import_errors.require_import_error(session, import_error_id)
        if readable is None:
            return ImportError.from_row(row)
        dags_of_file = import_errors.dag_ids_by_file(session, [row.filename])
        if not dags_of_file.get(row.filename, set()) & readable:
            raise PermissionDenied("You do not have read permission on any of the DAGs in the file")
        return ImportError.from_row(row, redacted=hides_trace(row, readable, dags_of_file))
