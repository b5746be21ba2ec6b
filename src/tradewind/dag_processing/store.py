"""Write parse results to the metadata database.

Each function takes the session first and never commits: the processor wraps each
file's result in its own transaction. What is written for one file:

- a ``DagRow`` per DAG (created paused when ``[core] dags_are_paused_at_creation``
  unless the DAG says ``is_paused_upon_creation``), with its tags, owner links and
  dataset references; ``next_dagrun*`` are left to the scheduler, and reset to NULL
  when the DAG's schedule (timetable, start/end date, catchup) changes, so that the
  scheduler computes them again;
- a ``SerializedDagRow``, rewritten only when ``dag_hash`` changed, so readers that
  cache by hash are not disturbed by a re-parse that changed nothing;
- a ``DagCodeRow`` per source file;
- the file's ``ImportErrorRow``s, replaced each time (deleted once it parses cleanly).

A dag_id already defined by another existing file is refused (Airflow's
``AirflowDagDuplicatedIdException``): the first file keeps the DAG and the second gets
an import error naming both. DAGs whose file raised keep their last good version,
flagged ``has_import_errors``; DAGs that a cleanly parsed file no longer defines, and
DAGs of deleted files (:func:`deactivate_missing`), become inactive.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.dag_processing.discovery import source_file
from tradewind.dag_processing.payload import DagFacts, ParsedDag, ParseResult
from tradewind.storage.tables import (
    DagCodeRow,
    DagOwnerLinkRow,
    DagRow,
    DagScheduleDatasetReferenceRow,
    DagTagRow,
    DatasetRow,
    ImportErrorRow,
    SerializedDagRow,
    TaskOutletDatasetReferenceRow,
)


def store_parse_result(
    session: Session,
    result: ParseResult,
    *,
    now: datetime,
    paused_at_creation: bool,
    processor_subdir: str | None,
    default_max_active_tasks: int = 16,
    default_max_active_runs: int = 16,
) -> ParseResult:
    """Store one file's parse result; return it with storage-time errors added.

    Args:
        now: aware UTC time written as ``last_parsed_time`` and row timestamps.
        paused_at_creation: ``[core] dags_are_paused_at_creation``.
        processor_subdir: the DAGs folder of this processor, recorded on rows so that
            :func:`deactivate_missing` touches only what this processor owns.
        default_max_active_tasks, default_max_active_runs: the ``[core]`` defaults for
            DAGs that set no limit.

    Returns:
        ``result``, with an import error (and the dag_id in ``failed_dag_ids``) for each
        DAG refused as a duplicate of another file's.
    """
    accepted: list[ParsedDag] = []
    errors = dict(result.import_errors)
    refused: list[str] = []
    for parsed in result.dags:
        owner = _other_owner(session, parsed)
        if owner is None:
            accepted.append(parsed)
            continue
        refused.append(parsed.dag_id)
        message = (
            f"AirflowDagDuplicatedIdException: Ignoring DAG {parsed.dag_id} from "
            f"{parsed.fileloc} - also found in {owner}"
        )
        previous = errors.get(parsed.fileloc)
        errors[parsed.fileloc] = f"{previous}\n{message}" if previous else message
    result = dataclasses.replace(
        result,
        dags=tuple(accepted),
        import_errors=errors,
        failed_dag_ids=tuple(sorted({*result.failed_dag_ids, *refused})),
    )
    for parsed in accepted:
        row = _upsert_dag(
            session,
            parsed,
            now=now,
            paused_at_creation=paused_at_creation,
            processor_subdir=processor_subdir,
            defaults=(default_max_active_tasks, default_max_active_runs),
        )
        row.has_import_errors = parsed.fileloc in errors
        previous = _write_serialized(session, parsed, now=now, processor_subdir=processor_subdir)
        if previous is not None and _schedule_of(previous) != _schedule_of(parsed.data):
            _reset_next_dagrun(row)
        _write_dataset_references(session, parsed.dag_id, parsed.facts, now=now)
    _retire_vanished_dags(session, result, refused)
    for fileloc, text in result.sources.items():
        _write_code(session, fileloc, text, now=now)
    _replace_import_errors(session, result, now=now, processor_subdir=processor_subdir)
    session.flush()
    return result


def deactivate_missing(
    session: Session, alive_filelocs: Collection[str], processor_subdir: str | None
) -> int:
    """Mark DAGs of files not in ``alive_filelocs`` inactive and drop those files' errors.

    Only rows of ``processor_subdir`` (or recorded without one) are considered, so two
    processors with different DAG folders do not deactivate each other's DAGs.

    Returns:
        The number of DAGs newly marked inactive.
    """
    alive = {str(path) for path in alive_filelocs}
    owned = sa.or_(DagRow.processor_subdir == processor_subdir, DagRow.processor_subdir.is_(None))
    rows = session.scalars(sa.select(DagRow).where(DagRow.is_active, owned)).all()
    deactivated = 0
    for row in rows:
        if row.fileloc is None or str(source_file(row.fileloc)) not in alive:
            row.is_active = False
            deactivated += 1
    errors_owned = sa.or_(
        ImportErrorRow.processor_subdir == processor_subdir,
        ImportErrorRow.processor_subdir.is_(None),
    )
    for error in session.scalars(sa.select(ImportErrorRow).where(errors_owned)).all():
        if str(source_file(error.filename)) not in alive:
            session.delete(error)
    for code in session.scalars(sa.select(DagCodeRow)).all():
        gone = str(source_file(code.fileloc))
        if gone not in alive and not source_file(code.fileloc).exists():
            session.delete(code)
    session.flush()
    return deactivated


def _other_owner(session: Session, parsed: ParsedDag) -> str | None:
    """The fileloc of another existing file already defining ``parsed.dag_id``, if any."""
    row = session.get(DagRow, parsed.dag_id)
    if row is None or not row.is_active or not row.fileloc:
        return None
    existing = source_file(row.fileloc)
    if existing == source_file(parsed.fileloc) or not existing.exists():
        return None  # the same file, or the DAG moved out of a deleted file
    return row.fileloc


def _upsert_dag(
    session: Session,
    parsed: ParsedDag,
    *,
    now: datetime,
    paused_at_creation: bool,
    processor_subdir: str | None,
    defaults: tuple[int, int],
) -> DagRow:
    facts = parsed.facts
    row = session.get(DagRow, parsed.dag_id)
    if row is None:
        paused = facts.is_paused_upon_creation
        row = DagRow(
            dag_id=parsed.dag_id, is_paused=paused_at_creation if paused is None else paused
        )
        session.add(row)
    row.is_active = True
    row.fileloc = parsed.fileloc
    row.processor_subdir = processor_subdir
    row.last_parsed_time = now
    row.dag_display_name = facts.dag_display_name
    row.owners = facts.owners
    row.description = facts.description
    row.default_view = facts.default_view
    row.timetable_summary = facts.timetable_summary
    row.timetable_description = facts.timetable_description
    row.schedule_interval = facts.schedule_interval
    row.dataset_expression = facts.dataset_expression
    row.max_active_tasks = facts.max_active_tasks or defaults[0]
    row.max_active_runs = facts.max_active_runs or defaults[1]
    row.has_task_concurrency_limits = facts.has_task_concurrency_limits
    if sorted(tag.name for tag in row.tags) != sorted(facts.tags):
        row.tags = [DagTagRow(name=name, dag_id=parsed.dag_id) for name in facts.tags]
    links = {link.owner: link.link for link in row.owner_links}
    if links != facts.owner_links:
        row.owner_links = [
            DagOwnerLinkRow(dag_id=parsed.dag_id, owner=owner, link=link)
            for owner, link in facts.owner_links.items()
        ]
    session.flush()  # the child rows below reference the DAG row
    return row


def _write_serialized(
    session: Session, parsed: ParsedDag, *, now: datetime, processor_subdir: str | None
) -> Any:
    """Write the document if it changed; return the document it replaced, if any."""
    row = session.get(SerializedDagRow, parsed.dag_id)
    previous = None
    if row is None:
        row = SerializedDagRow(dag_id=parsed.dag_id)
        session.add(row)
    elif row.dag_hash == parsed.hash:
        row.fileloc = parsed.fileloc
        row.processor_subdir = processor_subdir
        return None
    else:
        previous = row.data
    row.fileloc = parsed.fileloc
    row.processor_subdir = processor_subdir
    row.data = parsed.data
    row.dag_hash = parsed.hash
    row.last_updated = now
    return previous


#: Document keys that decide when a DAG's scheduled runs happen.
_SCHEDULE_KEYS = ("timetable", "start_date", "end_date", "catchup")


def _schedule_of(document: Any) -> tuple[Any, ...]:
    body = document.get("dag", {}) if isinstance(document, dict) else {}
    return tuple(body.get(key) for key in _SCHEDULE_KEYS)


def _reset_next_dagrun(row: DagRow) -> None:
    """Forget the next scheduled run of a DAG whose schedule changed: the scheduler
    computes it again from the DAG's last scheduled run (``scheduler/next_run.py``)."""
    row.next_dagrun = None
    row.next_dagrun_data_interval_start = None
    row.next_dagrun_data_interval_end = None
    row.next_dagrun_create_after = None


def _write_code(session: Session, fileloc: str, text: str, *, now: datetime) -> None:
    key = DagCodeRow.hash_fileloc(fileloc)
    row = session.get(DagCodeRow, key)
    if row is None:
        session.add(
            DagCodeRow(fileloc_hash=key, fileloc=fileloc, source_code=text, last_updated=now)
        )
    elif row.source_code != text or row.fileloc != fileloc:
        row.fileloc = fileloc
        row.source_code = text
        row.last_updated = now


def _replace_import_errors(
    session: Session, result: ParseResult, *, now: datetime, processor_subdir: str | None
) -> None:
    path = result.path
    session.execute(
        sa.delete(ImportErrorRow).where(
            sa.or_(
                ImportErrorRow.filename == path,
                ImportErrorRow.filename.startswith(f"{path}/", autoescape=True),
            )
        )
    )
    for filename, stacktrace in sorted(result.import_errors.items()):
        session.add(
            ImportErrorRow(
                filename=filename,
                stacktrace=stacktrace,
                timestamp=now,
                processor_subdir=processor_subdir,
            )
        )


def _retire_vanished_dags(session: Session, result: ParseResult, refused: list[str]) -> None:
    """Handle active DAGs of this file that the result does not (validly) define.

    A DAG whose definition failed, or whose file raised before defining it, keeps its
    last good version and is flagged ``has_import_errors``; one that the file simply
    no longer defines becomes inactive.
    """
    path = result.path
    stored = {parsed.dag_id for parsed in result.dags}
    in_file = sa.or_(DagRow.fileloc == path, DagRow.fileloc.startswith(f"{path}/", autoescape=True))
    for row in session.scalars(sa.select(DagRow).where(DagRow.is_active, in_file)).all():
        if row.dag_id in stored or row.dag_id in refused:
            continue
        if row.dag_id in result.failed_dag_ids or row.fileloc in result.import_errors:
            row.has_import_errors = True
        else:
            row.is_active = False


def _write_dataset_references(
    session: Session, dag_id: str, facts: DagFacts, *, now: datetime
) -> None:
    """Make the DAG's schedule and outlet references match ``facts.datasets``."""
    ids = _dataset_ids(session, facts, now=now)
    wanted_schedule = {ids[ref.uri] for ref in facts.datasets if ref.task_id is None}
    wanted_outlets = {(ids[ref.uri], ref.task_id) for ref in facts.datasets if ref.task_id}
    schedule_rows = session.scalars(
        sa.select(DagScheduleDatasetReferenceRow).where(
            DagScheduleDatasetReferenceRow.dag_id == dag_id
        )
    ).all()
    for ref in schedule_rows:
        if ref.dataset_id not in wanted_schedule:
            session.delete(ref)
    for dataset_id in wanted_schedule - {ref.dataset_id for ref in schedule_rows}:
        session.add(
            DagScheduleDatasetReferenceRow(
                dataset_id=dataset_id, dag_id=dag_id, created_at=now, updated_at=now
            )
        )
    outlet_rows = session.scalars(
        sa.select(TaskOutletDatasetReferenceRow).where(
            TaskOutletDatasetReferenceRow.dag_id == dag_id
        )
    ).all()
    for outlet in outlet_rows:
        if (outlet.dataset_id, outlet.task_id) not in wanted_outlets:
            session.delete(outlet)
    existing = {(outlet.dataset_id, outlet.task_id) for outlet in outlet_rows}
    for dataset_id, task_id in wanted_outlets - existing:
        session.add(
            TaskOutletDatasetReferenceRow(
                dataset_id=dataset_id,
                dag_id=dag_id,
                task_id=task_id,
                created_at=now,
                updated_at=now,
            )
        )


def _dataset_ids(session: Session, facts: DagFacts, *, now: datetime) -> dict[str, int]:
    """The id of every dataset ``facts`` mentions, creating (or un-orphaning) rows."""
    uris = {ref.uri: ref.extra for ref in facts.datasets}
    if not uris:
        return {}
    rows = {
        row.uri: row
        for row in session.scalars(sa.select(DatasetRow).where(DatasetRow.uri.in_(uris))).all()
    }
    for uri, extra in uris.items():
        row = rows.get(uri)
        if row is None:
            row = rows[uri] = DatasetRow(uri=uri, extra=extra, created_at=now, updated_at=now)
            session.add(row)
        elif row.is_orphaned:
            row.is_orphaned = False
    session.flush()
    return {uri: row.id for uri, row in rows.items()}
