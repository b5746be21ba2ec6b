"""``DAGRun`` and the bodies of the ``dagRuns`` operations.

``execution_date`` is Airflow's legacy name of ``logical_date``: it is written beside
it in every response and accepted instead of it when triggering; nowhere else does the
code use it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import Field

from tradewind.api.schemas.base import ApiDateTime, RequestBody, ResponseBody, positional_names
from tradewind.errors import InvalidInput
from tradewind.sdk.time import as_utc
from tradewind.sdk.timetables.base import DataInterval
from tradewind.storage.repositories import dag_runs as run_repo
from tradewind.storage.tables import DagRunRow


class DAGRun(ResponseBody):
    dag_run_id: str | None
    dag_id: str
    logical_date: datetime | None
    execution_date: datetime | None
    start_date: datetime | None
    end_date: datetime | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    last_scheduling_decision: datetime | None
    run_type: str
    state: str
    external_trigger: bool
    conf: dict[str, Any]
    note: str | None

    @classmethod
    def from_row(cls, row: DagRunRow | sa.Row[Any]) -> DAGRun:
        """From an ORM row or a plain one of ``LISTED_COLUMNS``."""
        return cls.model_validate(run_document(*_shown_values(row)))


class DAGRunCollection(ResponseBody):
    dag_runs: list[DAGRun]
    total_entries: int

    @classmethod
    def from_rows(
        cls, rows: Sequence[DagRunRow | sa.Row[Any]], total_entries: int
    ) -> DAGRunCollection:
        # One validation of the whole list: a model built per run costs twice as much.
        runs = [run_document(*_shown_values(row)) for row in rows]
        return cls.model_validate({"dag_runs": runs, "total_entries": total_entries})


def run_document(
    run_id: str | None,
    dag_id: str,
    logical_date: datetime | None,
    start_date: datetime | None,
    end_date: datetime | None,
    data_interval_start: datetime | None,
    data_interval_end: datetime | None,
    last_scheduling_decision: datetime | None,
    run_type: str,
    state: str,
    external_trigger: bool,
    conf: Any,
    note: str | None,
    /,
) -> dict[str, Any]:
    """The ``DAGRun`` fields, keys in the model's order (the JSON's), of a ``dag_run``
    row's values of :data:`SHOWN_COLUMNS` (by position: see ``dag.dag_document``).

    Plain enough to serialize as is (see :mod:`tradewind.api.list_bodies`).
    """
    return {
        "dag_run_id": run_id,
        "dag_id": dag_id,
        "logical_date": logical_date,
        "execution_date": logical_date,
        "start_date": start_date,
        "end_date": end_date,
        "data_interval_start": data_interval_start,
        "data_interval_end": data_interval_end,
        "last_scheduling_decision": last_scheduling_decision,
        "run_type": run_type,
        "state": state,
        "external_trigger": external_trigger,
        # Never null: the spec's ``conf`` is a non-nullable object.
        "conf": conf if isinstance(conf, dict) else {},
        "note": note,
    }


#: The ``dag_run`` columns ``DAGRun`` shows (some renamed), in the order
#: :func:`run_document` takes their values.
SHOWN_COLUMNS = positional_names(run_document)
_LISTED = tuple(column.name for column in run_repo.LISTED_COLUMNS)
#: A plain row of ``list_dag_run_records`` (its ``LISTED_COLUMNS``, whatever their
#: order) as the values of :data:`SHOWN_COLUMNS`; a column missing fails at import.
shown_of_record = itemgetter(*(_LISTED.index(name) for name in SHOWN_COLUMNS))
_shown_of_row = attrgetter(*SHOWN_COLUMNS)


def _shown_values(row: DagRunRow | sa.Row[Any]) -> tuple[Any, ...]:
    values: tuple[Any, ...] = (
        shown_of_record(row) if isinstance(row, sa.Row) else _shown_of_row(row)
    )
    return values


def only_fields(document: dict[str, Any], fields: Collection[str] | None) -> dict[str, Any]:
    """``document`` narrowed to ``fields`` (the ``fields`` query parameter), in their order.

    Raises:
        InvalidInput: a field ``DAGRun`` does not have (Airflow's wording).
    """
    if not fields:
        return document
    unknown = [name for name in fields if name not in DAGRun.model_fields]
    if unknown:
        raise InvalidInput(f"{unknown[0]} not in DAGRunSchema")
    return {name: document[name] for name in fields}


class DAGRunBody(RequestBody):
    """POST /dags/{dag_id}/dagRuns: the writable fields of ``DAGRun``."""

    dag_run_id: str | None = None
    logical_date: ApiDateTime | None = None
    #: Legacy alias of ``logical_date``; both may be given only with the same value.
    execution_date: ApiDateTime | None = None
    data_interval_start: ApiDateTime | None = None
    data_interval_end: ApiDateTime | None = None
    #: A JSON object; a string holding one is accepted too, as Airflow does.
    conf: dict[str, Any] | str | None = None
    note: str | None = None

    def requested_logical_date(self) -> datetime | None:
        """``logical_date`` or ``execution_date`` in UTC; None: now.

        Raises:
            InvalidInput: both are given and differ.
        """
        logical, legacy = as_utc(self.logical_date), as_utc(self.execution_date)
        if logical is not None and legacy is not None and logical != legacy:
            raise InvalidInput(
                "logical_date conflicts with execution_date: "
                f"{logical.isoformat()} != {legacy.isoformat()}"
            )
        return logical or legacy

    def requested_data_interval(self) -> DataInterval | None:
        """The interval the body names; None: the timetable infers it.

        Raises:
            InvalidInput: only one of its ends is given.
        """
        start, end = as_utc(self.data_interval_start), as_utc(self.data_interval_end)
        if start is None and end is None:
            return None
        if start is None or end is None:
            raise InvalidInput(
                "Both 'data_interval_start' and 'data_interval_end' must be specified together"
            )
        return DataInterval(start, end)

    def requested_conf(self) -> Any:
        """``conf`` as given, a string parsed as JSON (the service checks it is an object).

        Raises:
            InvalidInput: ``conf`` is a string that is not JSON.
        """
        if not isinstance(self.conf, str):
            return self.conf
        try:
            return json.loads(self.conf)
        except ValueError as error:
            raise InvalidInput(f"conf is not valid JSON: {error}") from None


#: The largest OFFSET a database binds (a signed 64-bit integer); beyond it is a 400.
MAX_OFFSET = 2**63 - 1


class ListDagRunsForm(RequestBody):
    """POST /dags/~/dagRuns/list: the list's filters in a body (many DAG ids fit)."""

    order_by: str | None = None
    page_offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    page_limit: int = Field(default=100, ge=1)
    dag_ids: list[str] | None = None
    states: list[str] | None = None
    execution_date_gte: ApiDateTime | None = None
    execution_date_lte: ApiDateTime | None = None
    start_date_gte: ApiDateTime | None = None
    start_date_lte: ApiDateTime | None = None
    end_date_gte: ApiDateTime | None = None
    end_date_lte: ApiDateTime | None = None


class UpdateDagRunState(RequestBody):
    state: Literal["success", "failed", "queued"]


class ClearDagRun(RequestBody):
    #: True by default, as in the spec: a body of ``{}`` only shows what would change.
    dry_run: bool = True


class SetDagRunNote(RequestBody):
    note: str | None
