"""``/dagStats``: how many runs of each DAG are in each state."""

from __future__ import annotations

from fastapi import APIRouter

from tradewind.api.deps import DbDep, PrincipalDep, requires
from tradewind.api.schemas.dag_stats import DagStatsCollectionSchema
from tradewind.security.permissions import DAG_RUN, READ
from tradewind.storage.repositories import dags as dag_repo

router = APIRouter(tags=["DagStats"])


@router.get("/dagStats", name="get_dag_stats", dependencies=[requires(READ, DAG_RUN)])
def get_dag_stats(dag_ids: str, db: DbDep, principal: PrincipalDep) -> DagStatsCollectionSchema:
    """Stats of the DAGs named in ``dag_ids`` (comma separated) that exist and the user
    may read; others are left out, as in Airflow."""
    wanted = list(dict.fromkeys(name.strip() for name in dag_ids.split(",") if name.strip()))
    readable = principal.grants.dag_filter(READ)
    if readable is not None:
        wanted = [dag_id for dag_id in wanted if dag_id in readable]
    with db.read() as session:
        known = dag_repo.existing_dag_ids(session, wanted)
        wanted = [dag_id for dag_id in wanted if dag_id in known]
        counts = dag_repo.count_runs_by_state(session, wanted)
    return DagStatsCollectionSchema.from_counts(wanted, counts)
