"""Jobs: the heartbeats of schedulers, triggerers and DAG processors (API ``/health``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.storage.tables import JobRow

SCHEDULER = "SchedulerJob"
TRIGGERER = "TriggererJob"
DAG_PROCESSOR = "DagProcessorJob"


def latest_heartbeat(session: Session, job_type: str) -> datetime | None:
    """The newest heartbeat of a running job of ``job_type``, or None if none runs."""
    return session.scalar(
        sa.select(sa.func.max(JobRow.latest_heartbeat)).where(
            JobRow.job_type == job_type, JobRow.state == "running"
        )
    )
