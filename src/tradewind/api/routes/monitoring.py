"""``/health`` and ``/version``: answered without credentials, as in Airflow.

``/health`` never fails: a database it cannot reach makes ``metadatabase`` unhealthy
(and the components unknown) instead of a 500, so a load balancer's probe always gets
an answer it can act on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from tradewind import __version__
from tradewind.api.deps import DbDep, SettingsDep
from tradewind.api.schemas.monitoring import (
    DagProcessorStatus,
    HealthInfo,
    HealthStatus,
    MetadatabaseStatus,
    SchedulerStatus,
    TriggererStatus,
    VersionInfo,
)
from tradewind.errors import DatabaseError
from tradewind.storage.repositories import jobs

router = APIRouter(tags=["Monitoring"])


@router.get("/health", name="get_health")
def get_health(db: DbDep, settings: SettingsDep) -> HealthInfo:
    try:
        with db.read() as session:
            beats = {
                kind: jobs.latest_heartbeat(session, kind)
                for kind in (jobs.SCHEDULER, jobs.TRIGGERER, jobs.DAG_PROCESSOR)
            }
    except (SQLAlchemyError, DatabaseError):
        return HealthInfo(
            metadatabase=MetadatabaseStatus(status="unhealthy"),
            scheduler=SchedulerStatus(status="unhealthy", latest_scheduler_heartbeat=None),
            triggerer=TriggererStatus(status=None, latest_triggerer_heartbeat=None),
            dag_processor=DagProcessorStatus(status=None, latest_dag_processor_heartbeat=None),
        )
    threshold = timedelta(seconds=settings.scheduler.scheduler_health_check_threshold)
    now = datetime.now(UTC)

    def status(beat: datetime | None, *, required: bool) -> HealthStatus | None:
        if beat is None:
            return "unhealthy" if required else None
        return "healthy" if now - beat <= threshold else "unhealthy"

    return HealthInfo(
        metadatabase=MetadatabaseStatus(status="healthy"),
        scheduler=SchedulerStatus(
            status=status(beats[jobs.SCHEDULER], required=True),
            latest_scheduler_heartbeat=beats[jobs.SCHEDULER],
        ),
        triggerer=TriggererStatus(
            status=status(beats[jobs.TRIGGERER], required=False),
            latest_triggerer_heartbeat=beats[jobs.TRIGGERER],
        ),
        dag_processor=DagProcessorStatus(
            status=status(beats[jobs.DAG_PROCESSOR], required=False),
            latest_dag_processor_heartbeat=beats[jobs.DAG_PROCESSOR],
        ),
    )


@router.get("/version", name="get_version")
def get_version() -> VersionInfo:
    return VersionInfo(version=__version__, git_version=None)
