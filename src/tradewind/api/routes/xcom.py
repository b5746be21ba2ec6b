"""``.../xcomEntries``: values task instances pushed.

Reading needs ``can_read`` on XComs and on the DAG, as Airflow's
``requires_access_dag("GET", XCOM)``. The list accepts ``~`` for the DAG, run and task
(any); with ``~`` as DAG it shows only the DAGs the user may read. A list naming
something that does not exist is empty, as in Airflow; an entry that does not exist is
a 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from tradewind.api.deps import DbDep, PageDep, PrincipalDep, check_dag, requires
from tradewind.api.model_response import model_response
from tradewind.api.schemas.xcom import XCom, XComCollection
from tradewind.security.permissions import DAG, READ, XCOM
from tradewind.storage.repositories import xcom as xcom_repo

router = APIRouter(tags=["XCom"])

ENTRIES = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries"
_READ_XCOMS = [requires(READ, XCOM), requires(READ, DAG)]


@router.get(
    ENTRIES, name="get_xcom_entries", dependencies=_READ_XCOMS, response_model=XComCollection
)
def get_xcom_entries(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    db: DbDep,
    principal: PrincipalDep,
    page: PageDep,
    map_index: int | None = None,
    xcom_key: str | None = None,
) -> Response:
    readable = principal.grants.dag_filter(READ) if dag_id == "~" else None
    if dag_id != "~":
        check_dag(principal, READ, dag_id)
    with db.read() as session:
        found = xcom_repo.list_xcoms(
            session,
            dag_id=_any(dag_id),
            run_id=_any(dag_run_id),
            task_id=_any(task_id),
            map_index=map_index,
            key=xcom_key,
            dag_ids=readable,
            limit=page.limit,
            offset=page.offset,
        )
        return model_response(XComCollection.from_page(found))


@router.get(ENTRIES + "/{xcom_key:path}", name="get_xcom_entry", dependencies=_READ_XCOMS)
def get_xcom_entry(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    xcom_key: str,
    db: DbDep,
    principal: PrincipalDep,
    map_index: int = -1,
    deserialize: bool = False,
    stringify: bool = True,
) -> XCom:
    # ``deserialize`` matters only to custom XCom backends (the spec says so): values
    # here are JSON already, so the flag is accepted and changes nothing.
    check_dag(principal, READ, dag_id)
    with db.read() as session:
        entry = xcom_repo.require_xcom(session, dag_id, dag_run_id, task_id, xcom_key, map_index)
        return XCom.from_entry(entry, stringify=stringify)


def _any(value: str) -> str | None:
    return None if value == "~" else value
