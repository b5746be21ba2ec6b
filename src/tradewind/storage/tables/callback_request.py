"""Callback requests: DAG-level callbacks owed for runs that finished.

The transaction that finishes a run inserts its request, so a run can never finish
without one, nor get two for one finish (the run's guarded transition happens once).
A scheduler claims a request (``claimed_by_job_id``), runs it in a child process and
deletes it afterwards: a scheduler that dies in between leaves the request claimed by
a job that is no longer running, and the next scheduler runs it again. Delivery is
therefore at least once, never zero times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.storage.column_types import UtcDateTime, big_id, json_type, utcnow
from tradewind.storage.tables.base import ID_LENGTH, Base


class CallbackRequestRow(Base):
    """One callback to run (Airflow's ``callback_request``, with the run named in columns).

    ``callback_type`` is ``"DagCallbackRequest"``; ``callback_data`` holds what the
    runner needs besides the run: ``fileloc``, ``is_failure_callback`` and ``msg`` (the
    reason: ``success``, ``task_failure`` or ``timed_out``).
    """

    __tablename__ = "callback_request"
    __table_args__ = (sa.Index("ix_callback_request_claimed_by_job_id", "claimed_by_job_id"),)

    id: Mapped[int] = mapped_column(big_id(), primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    priority_weight: Mapped[int] = mapped_column(default=1)
    callback_type: Mapped[str] = mapped_column(sa.String(20))
    callback_data: Mapped[Any] = mapped_column(json_type())
    dag_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    run_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH))
    processor_subdir: Mapped[str | None] = mapped_column(sa.String(2000))
    #: The scheduler job running it; None until claimed. A claim by a job that is no
    #: longer ``running`` is void.
    claimed_by_job_id: Mapped[int | None] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
