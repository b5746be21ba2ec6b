"""What a ``dagRuns`` request asks for beyond its path: who may see which DAGs' runs,
the date filters, the ordering, and one run looked up with Airflow's 404 wording.

The routes of :mod:`tradewind.api.routes.dag_runs` stay thin by keeping this here; the
query itself is :func:`tradewind.storage.repositories.dag_runs.list_dag_runs`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from sqlalchemy.orm import Session

from tradewind.api.auth.middleware import Principal
from tradewind.api.deps import check_dag
from tradewind.errors import InvalidInput, NotFound
from tradewind.security.permissions import DAG_RUN, READ
from tradewind.storage.repositories import dag_runs as run_repo
from tradewind.storage.tables import DagRunRow

#: ``order_by`` names Airflow 2.10 accepts for runs -> our column. Airflow also allows
#: ``conf``; ordering by a JSON document means nothing (and PostgreSQL's ``json`` cannot).
ORDER_COLUMNS = {
    "id": "id",
    "state": "state",
    "dag_id": "dag_id",
    "execution_date": "logical_date",
    "dag_run_id": "run_id",
    "start_date": "start_date",
    "end_date": "end_date",
    "updated_at": "updated_at",
    "external_trigger": "external_trigger",
}


def multi_value(values: list[str] | None) -> list[str] | None:
    """A repeated query parameter (``state=a&state=b``; ``a,b`` also splits); None: absent."""
    if not values:
        return None
    names = [name.strip() for value in values for name in value.split(",")]
    return [name for name in names if name] or None


StateParam = Annotated[list[str] | None, Query()]
FieldsParam = Annotated[list[str] | None, Query()]


def repo_order_by(order_by: str | None) -> str:
    """The API's ``order_by`` (``-`` for descending) as a ``list_dag_runs`` ordering.

    Raises:
        InvalidInput: a name Airflow does not allow, in Airflow's wording.
    """
    if not order_by:
        return "id"
    name = order_by.removeprefix("-")
    column = ORDER_COLUMNS.get(name)
    if column is None:
        raise InvalidInput(
            f"Ordering with '{name}' is disallowed or the attribute does not exist on the model"
        )
    return f"-{column}" if order_by.startswith("-") else column


def readable_dag_ids(principal: Principal) -> frozenset[str] | None:
    """The DAGs whose runs ``principal`` may read; None: every DAG."""
    dags = principal.grants.dag_filter(READ)
    runs = principal.grants.dag_filter(READ, DAG_RUN)
    if dags is None:
        return runs
    if runs is None:
        return dags
    return dags & runs


def check_run_access(principal: Principal, dag_id: str, *, dag: str, run: str) -> None:
    """403 unless ``principal`` may ``dag`` the DAG and ``run`` its runs (Airflow's pair,
    e.g. edit the DAG and create runs to trigger it)."""
    check_dag(principal, dag, dag_id)
    check_dag(principal, run, dag_id, DAG_RUN)


def require_run(session: Session, dag_id: str, run_id: str) -> DagRunRow:
    """The run, or a 404 worded as Airflow's ``get_dag_run`` words it."""
    run = run_repo.get_dag_run(session, dag_id, run_id)
    if run is None:
        raise NotFound(f"DAGRun with DAG ID: '{dag_id}' and DagRun ID: '{run_id}' not found")
    return run
