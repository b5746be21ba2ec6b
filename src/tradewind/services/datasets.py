"""Dataset updates: record the event and queue it for the DAGs scheduled on the dataset.

An update comes from a task whose ``outlets`` name the dataset, when its try succeeds
(:func:`register_outlet_events`, in the worker's transaction that records the
success), or from a user (:func:`create_dataset_event`, ``POST /datasets/events``).
Either way it is Airflow 2.10's ``DatasetManager.register_dataset_change``: one
``dataset_event`` row, and a ``dataset_dag_run_queue`` row for every active, unpaused
DAG scheduled on the dataset. The scheduler then creates a ``dataset_triggered`` run
of each DAG whose datasets are all queued (``tradewind.scheduler.dataset_runs``);
callers should wake it after committing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tradewind.errors import NotFound
from tradewind.storage.repositories import datasets as repo
from tradewind.storage.repositories.datasets import TaskSource
from tradewind.storage.tables import DatasetEventRow, DatasetRow

logger = logging.getLogger(__name__)


def register_dataset_change(
    session: Session,
    dataset: DatasetRow,
    *,
    now: datetime,
    extra: dict[str, Any] | None,
    source: TaskSource | None = None,
) -> DatasetEventRow:
    """Record an update of ``dataset`` at ``now`` and queue it for its consumers."""
    event = repo.create_event(session, dataset.id, timestamp=now, extra=extra, source=source)
    queued = repo.queue_consumers(session, dataset.id, now=now)
    if queued:
        logger.debug("Dataset %s updated; queued for %s", dataset.uri, ", ".join(queued))
    return event


def create_dataset_event(
    session: Session, uri: str, *, extra: dict[str, Any] | None, now: datetime
) -> DatasetEventRow:
    """A user's update of the dataset ``uri``; ``extra`` gets ``from_rest_api: true``,
    as Airflow marks events made through its API.

    Raises:
        NotFound: no dataset has ``uri`` (only datasets some DAG mentions exist).
    """
    dataset = repo.get_dataset(session, uri)
    if dataset is None:
        raise NotFound(f"Dataset with uri: '{uri}' not found")
    return register_dataset_change(
        session, dataset, now=now, extra={**(extra or {}), "from_rest_api": True}
    )


def register_outlet_events(
    session: Session, source: TaskSource, *, now: datetime
) -> list[DatasetEventRow]:
    """The updates a successful try makes: one event per dataset in its task's ``outlets``.

    The outlets are the ones the DAG processor stored for the task
    (``task_outlet_dataset_reference``), so the worker needs no DAG object to record
    them, and a task without outlets costs one query of a small table.
    """
    return [
        register_dataset_change(session, row, now=now, extra={}, source=source)
        for row in repo.outlet_datasets(session, source.dag_id, source.task_id)
    ]
