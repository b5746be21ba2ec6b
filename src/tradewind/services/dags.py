"""DAG-level use cases: pausing, deleting, and reading the serialized DAG other services
work on."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.orm import Session

from tradewind.errors import Conflict, NotFound
from tradewind.serialization import SerializedDAG, deserialize_dag
from tradewind.services.audit import record_event
from tradewind.storage.repositories import dags as dag_repo
from tradewind.storage.tables import DagRow, SerializedDagRow


def require_serialized_dag_row(session: Session, dag_id: str) -> SerializedDagRow:
    """The stored serialized DAG row (document and hash).

    Raises:
        NotFound: no DAG ``dag_id``, or it has no serialized form yet (its file was
            never parsed successfully), in which case nothing can run it.
    """
    dag_repo.require_dag(session, dag_id)
    row = dag_repo.get_serialized_dag(session, dag_id)
    if row is None:
        raise NotFound(f"DAG with dag_id: '{dag_id}' has no serialized form; is its file parsed?")
    return row


def load_serialized_dag(session: Session, dag_id: str) -> SerializedDAG:
    """The DAG as the DAG processor last stored it.

    Raises:
        NotFound: see :func:`require_serialized_dag_row`.
        InvalidInput: the stored document cannot be read by this version.
    """
    return deserialize_dag(require_serialized_dag_row(session, dag_id).data)


def pause_dag(session: Session, dag_id: str, *, now: datetime, owner: str | None = None) -> DagRow:
    """Pause ``dag_id``: no new scheduled runs, and its queued runs do not start.

    Raises:
        NotFound: unknown DAG.
    """
    return _set_paused(session, dag_id, True, now=now, owner=owner)


def unpause_dag(
    session: Session, dag_id: str, *, now: datetime, owner: str | None = None
) -> DagRow:
    """Unpause ``dag_id``; the caller should wake the scheduler after committing.

    Raises:
        NotFound: unknown DAG.
    """
    return _set_paused(session, dag_id, False, now=now, owner=owner)


def _set_paused(
    session: Session, dag_id: str, is_paused: bool, *, now: datetime, owner: str | None
) -> DagRow:
    dag = dag_repo.set_paused(session, dag_id, is_paused)
    _record_pause(session, dag_id, is_paused, now=now, owner=owner)
    return dag


def _record_pause(
    session: Session, dag_id: str, is_paused: bool, *, now: datetime, owner: str | None
) -> None:
    record_event(
        session,
        "pause" if is_paused else "unpause",
        now=now,
        owner=owner,
        dag_id=dag_id,
        extra={"is_paused": is_paused},
    )


def set_paused_many(
    session: Session,
    dag_ids: Collection[str],
    is_paused: bool,
    *,
    now: datetime,
    owner: str | None = None,
) -> None:
    """Pause or unpause many DAGs in one statement, with one audit row per DAG.

    Unknown ids are ignored; after unpausing, the caller should wake the scheduler.
    """
    dag_repo.set_paused_many(session, dag_ids, is_paused)
    for dag_id in dag_ids:
        _record_pause(session, dag_id, is_paused, now=now, owner=owner)


def delete_dag(session: Session, dag_id: str) -> int:
    """Delete everything recorded about ``dag_id`` except its audit log.

    Its file is untouched: if it still defines the DAG, the DAG processor records it again
    (without its history) on its next pass, as in Airflow.

    Returns:
        The number of rows deleted.

    Raises:
        NotFound: unknown DAG.
        Conflict: some of its task instances are running; deleting their rows would
            leave workers writing to rows that no longer exist.
    """
    dag_repo.require_dag(session, dag_id)
    if dag_repo.has_running_task_instances(session, dag_id):
        raise Conflict(f"Task instances of dag with id: '{dag_id}' are still running")
    return dag_repo.delete_dag_rows(session, dag_id)
