"""What a task instance shows besides its own row: its run's logical date, its trigger
and the triggerer job running that trigger.

The API's ``TaskInstance`` carries all three. :func:`load_details` reads them for a
whole page of task instances in at most three queries (one per kind, by IN lists),
however long the page is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.storage.tables import DagRunRow, JobRow, TaskInstanceRow, TriggerRow

_T = TypeVar("_T")
_Row = TypeVar("_Row", TriggerRow, JobRow)

#: Keys per IN list: far below SQLite's and PostgreSQL's bound-parameter limits.
_CHUNK = 500


@dataclass(frozen=True)
class TaskInstanceDetails:
    """Related rows of some task instances, looked up by the keys the rows carry."""

    logical_dates: dict[tuple[str, str], datetime] = field(default_factory=dict)
    triggers: dict[int, TriggerRow] = field(default_factory=dict)
    jobs: dict[int, JobRow] = field(default_factory=dict)

    def logical_date(self, ti: TaskInstanceRow) -> datetime:
        return self.logical_dates[(ti.dag_id, ti.run_id)]

    def trigger(self, ti: TaskInstanceRow) -> TriggerRow | None:
        return None if ti.trigger_id is None else self.triggers.get(ti.trigger_id)

    def triggerer_job(self, ti: TaskInstanceRow) -> JobRow | None:
        trigger = self.trigger(ti)
        if trigger is None or trigger.triggerer_id is None:
            return None
        return self.jobs.get(trigger.triggerer_id)


def load_details(session: Session, tis: Sequence[TaskInstanceRow]) -> TaskInstanceDetails:
    """The runs' logical dates, triggers and triggerer jobs of ``tis``.

    One query per kind that is needed (task instances that are not deferred have no
    trigger, so usually only the runs are read).
    """
    run_keys = sorted({(ti.dag_id, ti.run_id) for ti in tis})
    logical_dates: dict[tuple[str, str], datetime] = {}
    for chunk in _chunks(run_keys):
        rows = session.execute(
            sa.select(DagRunRow.dag_id, DagRunRow.run_id, DagRunRow.logical_date).where(
                sa.tuple_(DagRunRow.dag_id, DagRunRow.run_id).in_(chunk)
            )
        )
        logical_dates.update({(dag_id, run_id): date for dag_id, run_id, date in rows})
    trigger_ids = sorted({ti.trigger_id for ti in tis if ti.trigger_id is not None})
    triggers = {row.id: row for row in _by_ids(session, TriggerRow, trigger_ids)}
    job_ids = sorted({row.triggerer_id for row in triggers.values() if row.triggerer_id})
    jobs = {row.id: row for row in _by_ids(session, JobRow, job_ids)}
    return TaskInstanceDetails(logical_dates, triggers, jobs)


def _by_ids(session: Session, row_class: type[_Row], ids: Sequence[int]) -> Iterable[_Row]:
    for chunk in _chunks(ids):
        yield from session.scalars(sa.select(row_class).where(row_class.id.in_(chunk)))


def _chunks(items: Sequence[_T]) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
