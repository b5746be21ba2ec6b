"""``/dagWarnings``: problems of DAGs that are not import errors."""

from __future__ import annotations

from fastapi import APIRouter, Response

from tradewind.api.deps import DbDep, PageDep, PrincipalDep, check_dag, requires
from tradewind.api.model_response import model_response
from tradewind.api.schemas.dag_warning import DagWarningCollection
from tradewind.security.permissions import DAG_WARNING, READ
from tradewind.storage.repositories.dag_warnings import list_dag_warnings

router = APIRouter(tags=["DagWarning"])


@router.get(
    "/dagWarnings",
    name="get_dag_warnings",
    dependencies=[requires(READ, DAG_WARNING)],
    response_model=DagWarningCollection,
)
def get_dag_warnings(
    db: DbDep,
    page: PageDep,
    principal: PrincipalDep,
    dag_id: str | None = None,
    warning_type: str | None = None,
) -> Response:
    """Warnings of ``dag_id`` (which the user must be allowed to read), or of every DAG
    the user may read."""
    if dag_id is not None:
        check_dag(principal, READ, dag_id)
    with db.read() as session:
        found = list_dag_warnings(
            session,
            dag_id=dag_id,
            warning_type=warning_type,
            dag_ids=None if dag_id is not None else principal.grants.dag_filter(READ),
            limit=page.limit,
            offset=page.offset,
            order_by=page.order_by,
        )
        return model_response(DagWarningCollection.from_rows(found.items, found.total_entries))
