"""The audit log (API ``/eventLogs``): one row per action a person took.

Actions record themselves here, in the same transaction as the change they describe,
so the log never claims a change that was rolled back, nor misses one that was not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tradewind.storage.tables import LogRow


def record_event(
    session: Session,
    event: str,
    *,
    now: datetime,
    owner: str | None = None,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    map_index: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> LogRow:
    """Add one audit row; ``extra`` is stored as JSON text (the caller masks secrets)."""
    row = LogRow(
        dttm=now,
        event=event,
        owner=owner,
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        map_index=map_index,
        extra=None if extra is None else json.dumps(dict(extra), default=str, sort_keys=True),
    )
    session.add(row)
    return row
