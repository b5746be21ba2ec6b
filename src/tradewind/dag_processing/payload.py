"""What parsing one DAG file produces, as plain JSON-able values.

The child process builds a :class:`ParseResult` with :func:`build_result` and sends
it as JSON; the parent rebuilds it with :meth:`ParseResult.from_json` and hands it to
``store``. Everything the database needs about a DAG is read here, from the live
DAG object, once: the serialized form (``serialize_dag``), its hash, and the few
columns of the DAG row (:class:`DagFacts`), so the parent never deserializes a DAG
just to fill a row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradewind.dag_processing.importer import add_error, import_dag_file, validate_dags
from tradewind.sdk.dag import DAG
from tradewind.sdk.datasets import Dataset
from tradewind.serialization import dag_hash, serialize_dag
from tradewind.serialization.schedule import schedule_facts


@dataclass(frozen=True)
class DatasetRef:
    """A dataset a DAG is scheduled on (``task_id`` None) or a task's outlet."""

    uri: str
    extra: dict[str, Any] | None = None
    task_id: str | None = None


@dataclass(frozen=True)
class DagFacts:
    """The DAG row's columns that come from the DAG definition (Airflow's DagModel).

    Attributes:
        owners: task owners, comma separated.
        schedule_interval: Airflow's ``ScheduleInterval`` JSON: ``{"__type":
            "CronExpression", "value": ...}``, ``{"__type": "TimeDelta", ...}`` or None.
        max_active_runs, max_active_tasks: None means the ``[core]`` defaults.
        is_paused_upon_creation: None means ``[core] dags_are_paused_at_creation``.
        dataset_expression: the schedule's dataset condition, ``{"all"|"any": [...]}``.
    """

    owners: str = ""
    description: str | None = None
    tags: tuple[str, ...] = ()
    timetable_summary: str | None = None
    timetable_description: str | None = None
    schedule_interval: Any = None
    max_active_runs: int | None = None
    max_active_tasks: int | None = None
    has_task_concurrency_limits: bool = False
    default_view: str = "grid"
    is_paused_upon_creation: bool | None = None
    dag_display_name: str | None = None
    owner_links: dict[str, str] = field(default_factory=dict)
    dataset_expression: Any = None
    datasets: tuple[DatasetRef, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DagFacts:
        data = dict(data)
        data["tags"] = tuple(data.get("tags") or ())
        data["datasets"] = tuple(DatasetRef(**ref) for ref in data.get("datasets") or ())
        return cls(**data)


@dataclass(frozen=True)
class ParsedDag:
    """One DAG of a file: identity, serialized form and its hash, and row facts."""

    dag_id: str
    fileloc: str
    data: dict[str, Any]
    hash: str
    facts: DagFacts = field(default_factory=DagFacts)


@dataclass(frozen=True)
class ParseResult:
    """The outcome of parsing one file, whatever happened to it.

    Attributes:
        path: the file parsed (``.py`` or ``.zip``), absolute.
        dags: the DAGs that imported and validated cleanly.
        sources: source text by fileloc (members of a zip have their own).
        import_errors: traceback (or timeout/crash message) by fileloc; empty when
            the file parsed cleanly.
        warnings: Python warnings raised during the import, one line each.
        failed_dag_ids: DAGs found in the file but failing ``validate()``/serialization.
        duration: seconds the parse took in the child (or until it was given up on).
    """

    path: str
    dags: tuple[ParsedDag, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    import_errors: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    failed_dag_ids: tuple[str, ...] = ()
    duration: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParseResult:
        dags = tuple(
            ParsedDag(
                dag_id=d["dag_id"],
                fileloc=d["fileloc"],
                data=d["data"],
                hash=d["hash"],
                facts=DagFacts.from_json(d["facts"]),
            )
            for d in data.get("dags") or ()
        )
        return cls(
            path=data["path"],
            dags=dags,
            sources=dict(data.get("sources") or {}),
            import_errors=dict(data.get("import_errors") or {}),
            warnings=tuple(data.get("warnings") or ()),
            failed_dag_ids=tuple(data.get("failed_dag_ids") or ()),
            duration=float(data.get("duration") or 0.0),
        )


def build_result(path: Path, *, safe_mode: bool, sys_path: Iterable[str] = ()) -> ParseResult:
    """Import, validate and serialize one file in this process (the child's work)."""
    loaded = import_dag_file(path, safe_mode=safe_mode, extra_sys_path=sys_path)
    found = set(loaded.dags)
    validate_dags(loaded)
    dags: list[ParsedDag] = []
    for dag_id, dag in sorted(loaded.dags.items()):
        try:
            data = serialize_dag(dag)
            dags.append(ParsedDag(dag_id, dag.fileloc, data, dag_hash(data), facts=dag_facts(dag)))
        except Exception as exc:
            add_error(loaded, dag.fileloc, exc)
    return ParseResult(
        path=str(loaded.path),
        dags=tuple(dags),
        sources=loaded.sources,
        import_errors=loaded.import_errors,
        warnings=tuple(loaded.warnings),
        failed_dag_ids=tuple(sorted(found - {d.dag_id for d in dags})),
        duration=loaded.duration,
    )


def dag_facts(dag: DAG) -> DagFacts:
    """Read the DAG row's columns from a live DAG."""
    timetable = dag.timetable
    schedule = schedule_facts(timetable)
    refs = [DatasetRef(uri) for uri in schedule.dataset_uris]
    for task in dag.tasks:
        for outlet in task.outlets or ():
            if isinstance(outlet, Dataset):
                refs.append(DatasetRef(outlet.uri, outlet.extra, task.task_id))
    return DagFacts(
        owners=dag.owner,
        description=dag.description,
        tags=tuple(dag.tags),
        timetable_summary=timetable.summary,
        timetable_description=timetable.description or None,
        schedule_interval=schedule.schedule_interval,
        max_active_runs=dag.max_active_runs,
        max_active_tasks=dag.max_active_tasks,
        has_task_concurrency_limits=any(
            task.max_active_tis_per_dag is not None or task.max_active_tis_per_dagrun is not None
            for task in dag.tasks
        ),
        default_view=dag.default_view,
        is_paused_upon_creation=dag.is_paused_upon_creation,
        dag_display_name=dag.dag_display_name,
        owner_links=dict(dag.owner_links),
        dataset_expression=schedule.dataset_expression,
        datasets=tuple(refs),
    )
