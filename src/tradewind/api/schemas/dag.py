"""``DAG``, ``DAGCollection`` and ``DAGDetail``: a DAG as its row and serialized form say.

``DAG`` shows only the ``dag`` row (what the scheduler queries), ``DAGDetail`` adds what
only the serialized DAG knows (dates, params, docs); neither imports a DAG file. Fields
of Airflow 2's ``DagModel`` that Tradewind has no use for (SubDAGs, pickling, the
scheduler lock) are always ``null``/``false``, as Airflow shows them for a DAG without
them.

``fields`` (the spec's ``ReturnFields``) narrows a response to some fields;
:func:`only_fields` checks the names, as Airflow's ``DAGSchema(only=...)`` does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from operator import attrgetter, itemgetter
from typing import Any

from tradewind.api.file_tokens import FileTokens
from tradewind.api.schemas.base import RequestBody, ResponseBody, positional_names
from tradewind.errors import InvalidInput
from tradewind.serialization import SerializedDAG, SerializedParam
from tradewind.serialization.encoders import encode_timedelta
from tradewind.storage.repositories import dags as dag_repo
from tradewind.storage.tables import DagRow

#: The class Airflow's ``Param.dump()`` names; clients (the UI's trigger form) look for it.
PARAM_CLASS = "airflow.models.param.Param"


class Tag(ResponseBody):
    name: str


class DAG(ResponseBody):
    dag_id: str
    dag_display_name: str
    root_dag_id: str | None = None
    is_paused: bool | None
    is_active: bool | None
    is_subdag: bool = False
    last_parsed_time: datetime | None
    last_pickled: datetime | None = None
    last_expired: datetime | None
    scheduler_lock: bool | None = None
    pickle_id: str | None = None
    default_view: str | None
    fileloc: str
    file_token: str
    owners: list[str]
    description: str | None
    schedule_interval: dict[str, Any] | None
    timetable_description: str | None
    tags: list[Tag] | None
    max_active_tasks: int | None
    max_active_runs: int | None
    has_task_concurrency_limits: bool | None
    has_import_errors: bool | None
    next_dagrun: datetime | None
    next_dagrun_data_interval_start: datetime | None
    next_dagrun_data_interval_end: datetime | None
    next_dagrun_create_after: datetime | None
    max_consecutive_failed_dag_runs: int | None

    @classmethod
    def from_row(cls, row: DagRow, tokens: FileTokens) -> DAG:
        return cls(**_row_document(row, tokens))


class DAGCollection(ResponseBody):
    dags: list[DAG]
    total_entries: int

    @classmethod
    def from_rows(
        cls, rows: Sequence[DagRow], total_entries: int, tokens: FileTokens
    ) -> DAGCollection:
        return cls(dags=[DAG.from_row(row, tokens) for row in rows], total_entries=total_entries)


class DAGDetail(DAG):
    timezone: str
    catchup: bool | None
    orientation: str | None
    concurrency: int | None
    start_date: datetime | None
    dag_run_timeout: dict[str, Any] | None
    dataset_expression: dict[str, Any] | None
    doc_md: str | None
    params: dict[str, Any]
    end_date: datetime | None
    is_paused_upon_creation: bool | None
    last_parsed: datetime | None
    template_search_path: list[str] | None
    render_template_as_native_obj: bool | None

    @classmethod
    def from_dag(
        cls, row: DagRow, dag: SerializedDAG, tokens: FileTokens, *, catchup_by_default: bool
    ) -> DAGDetail:
        """Args:
        catchup_by_default: ``[scheduler] catchup_by_default``, for DAGs that do not say.
        """
        return cls(
            **_row_document(row, tokens),
            timezone=dag.timezone,
            catchup=catchup_by_default if dag.catchup is None else dag.catchup,
            orientation=dag.orientation,
            concurrency=row.max_active_tasks,
            start_date=dag.start_date,
            dag_run_timeout=encode_timedelta(dag.dagrun_timeout) if dag.dagrun_timeout else None,
            dataset_expression=dag.dataset_expression,
            doc_md=dag.doc_md,
            params={name: _param(param) for name, param in dag.params.items()},
            end_date=dag.end_date,
            is_paused_upon_creation=dag.is_paused_upon_creation,
            last_parsed=row.last_parsed_time,
            template_search_path=list(dag.template_searchpath) or None,
            render_template_as_native_obj=dag.render_template_as_native_obj,
        )


class DAGBody(RequestBody):
    """PATCH /dags and /dags/{dag_id}: ``is_paused``, the one field the API may change."""

    is_paused: bool | None = None


def only_fields(model: ResponseBody, fields: Collection[str]) -> dict[str, Any]:
    """``model`` as JSON with only ``fields``.

    Raises:
        InvalidInput: a name is not a field of the model.
    """
    check_fields(type(model), fields)
    return model.model_dump(mode="json", include=set(fields))


def check_fields(model: type[ResponseBody], fields: Collection[str]) -> None:
    """Raises InvalidInput, naming them, when some of ``fields`` are not ``model``'s."""
    unknown = sorted(set(fields) - set(model.model_fields))
    if unknown:
        raise InvalidInput(f"Invalid fields for {model.__name__}: {', '.join(unknown)}")


def dag_document(
    dag_id: str,
    dag_display_name: str | None,
    is_paused: bool,
    is_active: bool,
    last_parsed_time: datetime | None,
    last_expired: datetime | None,
    default_view: str | None,
    fileloc: str | None,
    owners: str | None,
    description: str | None,
    schedule_interval: dict[str, Any] | None,
    timetable_description: str | None,
    max_active_tasks: int,
    max_active_runs: int | None,
    has_task_concurrency_limits: bool,
    has_import_errors: bool,
    next_dagrun: datetime | None,
    next_dagrun_data_interval_start: datetime | None,
    next_dagrun_data_interval_end: datetime | None,
    next_dagrun_create_after: datetime | None,
    max_consecutive_failed_dag_runs: int,
    /,
    *,
    tags: Iterable[str],
    tokens: FileTokens,
) -> dict[str, Any]:
    """The ``DAG`` fields, keys in the model's order (the JSON's), of a ``dag`` row and
    its tag names.

    The row's values come positionally, its columns named by the parameters (see
    :data:`SHOWN_COLUMNS`): a list writes 100 of these, and reading a row by position is
    the cheapest way. The result is plain enough to serialize as is (see
    :mod:`tradewind.api.list_bodies`). Fields of Airflow's ``DagModel`` that Tradewind
    has no use for are ``null``/``false``, as ``DAG``'s defaults say.
    """
    fileloc = fileloc or ""
    return {
        "dag_id": dag_id,
        "dag_display_name": dag_display_name or dag_id,
        "root_dag_id": None,
        "is_paused": is_paused,
        "is_active": is_active,
        "is_subdag": False,
        "last_parsed_time": last_parsed_time,
        "last_pickled": None,
        "last_expired": last_expired,
        "scheduler_lock": None,
        "pickle_id": None,
        "default_view": default_view,
        "fileloc": fileloc,
        "file_token": tokens.token_of(fileloc),
        "owners": [name.strip() for name in (owners or "").split(",") if name.strip()],
        "description": description,
        "schedule_interval": schedule_interval,
        "timetable_description": timetable_description,
        "tags": [{"name": name} for name in sorted(tags)],
        "max_active_tasks": max_active_tasks,
        "max_active_runs": max_active_runs,
        "has_task_concurrency_limits": has_task_concurrency_limits,
        "has_import_errors": has_import_errors,
        "next_dagrun": next_dagrun,
        "next_dagrun_data_interval_start": next_dagrun_data_interval_start,
        "next_dagrun_data_interval_end": next_dagrun_data_interval_end,
        "next_dagrun_create_after": next_dagrun_create_after,
        "max_consecutive_failed_dag_runs": max_consecutive_failed_dag_runs,
    }


#: The ``dag`` columns ``DAG`` shows (some reworked), in the order :func:`dag_document`
#: takes their values: its positional parameters, which are named after them.
SHOWN_COLUMNS = positional_names(dag_document)
_LISTED = tuple(column.name for column in dag_repo.LISTED_COLUMNS)
#: A plain row of ``list_dag_records`` (its ``LISTED_COLUMNS``, whatever their order) as
#: the values of :data:`SHOWN_COLUMNS`; a column missing there fails here, at import.
shown_of_record = itemgetter(*(_LISTED.index(name) for name in SHOWN_COLUMNS))
_shown_of_row = attrgetter(*SHOWN_COLUMNS)


def _row_document(row: DagRow, tokens: FileTokens) -> dict[str, Any]:
    """:func:`dag_document` of an ORM row, its tags loaded with it."""
    return dag_document(*_shown_of_row(row), tags=[tag.name for tag in row.tags], tokens=tokens)


def _param(param: SerializedParam) -> dict[str, Any]:
    """A DAG param as Airflow's ``Param.dump()`` shows it."""
    return {
        "__class": PARAM_CLASS,
        "value": _plain(param.value) if param.has_default else None,
        "description": param.description,
        "schema": _plain(param.schema),
    }


def _plain(value: Any) -> Any:
    """``value`` as plain JSON: dates as ISO 8601, tuples and sets as lists, other
    objects as their text, so no value a DAG file chose can fail the response."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    return str(value)
