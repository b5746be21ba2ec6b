"""``HealthInfo`` and ``VersionInfo``: is the deployment alive, and which version is it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from tradewind.api.schemas.base import ResponseBody

HealthStatus = Literal["healthy", "unhealthy"]


class MetadatabaseStatus(ResponseBody):
    status: HealthStatus


class ComponentStatus(ResponseBody):
    """Status of a heartbeating component; ``None`` heartbeat: it never ran."""

    status: HealthStatus | None


class SchedulerStatus(ComponentStatus):
    latest_scheduler_heartbeat: datetime | None


class TriggererStatus(ComponentStatus):
    latest_triggerer_heartbeat: datetime | None


class DagProcessorStatus(ComponentStatus):
    latest_dag_processor_heartbeat: datetime | None


class HealthInfo(ResponseBody):
    metadatabase: MetadatabaseStatus
    scheduler: SchedulerStatus
    triggerer: TriggererStatus
    dag_processor: DagProcessorStatus


class VersionInfo(ResponseBody):
    version: str
    git_version: str | None
