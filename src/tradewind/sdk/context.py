"""The template context: the variables a task's templates and ``execute`` see.

:func:`build_template_context` is pure. Everything that needs the database or the
secrets backend (the task instance, the DAG run, Variables, Connections, the prior
successful run) is handed in by the caller: the task runner gives DB-backed
objects, ``tradewind dags test`` and unit tests give the in-memory accessors
defined here. Dates all arrive as arguments; nothing reads the clock.

The keys and their formats are Airflow 2.10's, deprecated ones included
(``execution_date``, ``next_ds``, ``prev_ds``, ``yesterday_ds`` ...), because DAG
files and SQL templates written for Airflow use them. Airflow's ``conf`` key (its
configuration object) is not provided; a caller that wants it passes it in ``extra``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from tradewind.errors import NotFound
from tradewind.sdk import macros
from tradewind.sdk.params import resolve_params
from tradewind.sdk.states import DagRunType
from tradewind.sdk.time import as_utc
from tradewind.sdk.timetables.base import DataInterval, TimeRestriction

if TYPE_CHECKING:
    from tradewind.sdk.baseoperator import BaseOperator
    from tradewind.sdk.dag import DAG


# -- the accessors the caller supplies -----------------------------------------------


class VariableLookup(Protocol):
    """``var.value`` or ``var.json``: Variables by attribute or by ``get``."""

    def get(self, key: str, default: Any = None) -> Any:
        """The Variable ``key``, or ``default`` when it does not exist."""
        ...

    def __getattr__(self, key: str) -> Any:
        """The Variable ``key``; raises NotFound when it does not exist."""
        ...


class VariableAccessor(Protocol):
    """The ``var`` of templates: ``{{ var.value.key }}`` and ``{{ var.json.key.field }}``."""

    @property
    def value(self) -> VariableLookup:
        """Variables as stored (strings)."""
        ...

    @property
    def json(self) -> VariableLookup:
        """Variables decoded from JSON."""
        ...


class ConnectionAccessor(Protocol):
    """The ``conn`` of templates: ``{{ conn.my_db.host }}``, ``{{ conn.get('id').login }}``.

    A connection exposes at least ``conn_id``, ``conn_type``, ``host``, ``login``,
    ``password``, ``schema``, ``port``, ``extra`` and ``extra_dejson``.
    """

    def get(self, conn_id: str, default_conn: Any = None) -> Any:
        """The connection ``conn_id``, or ``default_conn`` when it does not exist."""
        ...

    def __getattr__(self, conn_id: str) -> Any:
        """The connection ``conn_id``; raises NotFound when it does not exist."""
        ...


class _MappingLookup:
    def __init__(self, values: Mapping[str, Any], decode: bool) -> None:
        self._values = values
        self._decode = decode

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self._values:
            return default
        value = self._values[key]
        return json.loads(value) if self._decode and isinstance(value, str) else value

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):  # Jinja and copy probe dunders; they are not Variables.
            raise AttributeError(key)
        if key not in self._values:
            raise NotFound(f"Variable {key!r} does not exist")
        return self.get(key)


class MappingVariableAccessor:
    """Variables from a dict: ``MappingVariableAccessor({"env": "prod"})``.

    The in-memory twin of the database-backed accessor, for tests and
    ``tradewind dags test`` without a metadata database. ``var.json`` decodes
    string values as JSON and passes other values through.
    """

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values = dict(values or {})
        self.value: VariableLookup = _MappingLookup(self._values, decode=False)
        self.json: VariableLookup = _MappingLookup(self._values, decode=True)


@dataclass(frozen=True)
class TemplateConnection:
    """A connection's fields as templates read them."""

    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    login: str | None = None
    password: str | None = None
    schema: str | None = None
    port: int | None = None
    extra: str | None = None
    description: str | None = None

    @property
    def extra_dejson(self) -> dict[str, Any]:
        """``extra`` decoded from JSON; an empty dict when it is empty."""
        if not self.extra:
            return {}
        decoded = json.loads(self.extra)
        return decoded if isinstance(decoded, dict) else {}


class MappingConnectionAccessor:
    """Connections from a dict of conn id to :class:`TemplateConnection` or field dict.

    ``MappingConnectionAccessor({"db": {"host": "h", "port": 5432}})``; a dict
    ``extra`` is stored as its JSON text, as the database stores it.
    """

    def __init__(self, connections: Mapping[str, Any] | None = None) -> None:
        self._connections = {
            conn_id: _as_connection(conn_id, value)
            for conn_id, value in (connections or {}).items()
        }

    def get(self, conn_id: str, default_conn: Any = None) -> Any:
        return self._connections.get(conn_id, default_conn)

    def __getattr__(self, conn_id: str) -> Any:
        if conn_id.startswith("_"):
            raise AttributeError(conn_id)
        try:
            return self._connections[conn_id]
        except KeyError:
            raise NotFound(f"The conn_id {conn_id!r} isn't defined") from None


def _as_connection(conn_id: str, value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    fields = dict(value)
    if isinstance(fields.get("extra"), Mapping):
        fields["extra"] = json.dumps(fields["extra"])
    return TemplateConnection(conn_id=conn_id, **fields)


# -- the context ---------------------------------------------------------------------


class PriorSuccess(NamedTuple):
    """The latest successful earlier run of the same DAG, for the ``prev_*_success`` keys."""

    logical_date: datetime | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    start_date: datetime | None
    end_date: datetime | None


def build_template_context(
    *,
    dag: DAG,
    task: BaseOperator,
    run_id: str,
    logical_date: datetime,
    data_interval_start: datetime | None = None,
    data_interval_end: datetime | None = None,
    run_type: DagRunType | str = DagRunType.MANUAL,
    params: Mapping[str, Any] | None = None,
    conf: Mapping[str, Any] | None = None,
    ti: Any = None,
    dag_run: Any = None,
    var: VariableAccessor | None = None,
    conn: ConnectionAccessor | None = None,
    prior_success: PriorSuccess | None = None,
    triggering_dataset_events: Mapping[str, list[Any]] | None = None,
    expanded_ti_count: int | None = None,
    test_mode: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The context of one task instance, with Airflow 2.10's keys.

    Args:
        dag, task: the DAG and the task about to run.
        run_id: the DAG run's id.
        logical_date: the run's logical date; naive means UTC. Every date in the
            context is an aware UTC datetime.
        data_interval_start, data_interval_end: the run's data interval; None means
            ``logical_date``.
        run_type: how the run was created. For ``manual`` runs ``prev_ds`` and
            ``next_ds`` equal ``ds``, as in Airflow; for others they are derived
            from the DAG's timetable when it is interval based, else None.
        params: the run's resolved params; None resolves ``dag.params`` and
            ``task.params`` against ``conf`` here.
        conf: the run's conf. Its keys override params (and undeclared keys are
            added), Airflow's ``dag_run_conf_overrides_params = True``.
        ti: the running task instance (``ti`` and ``task_instance``).
        dag_run: the DAG run object (``dag_run``).
        var, conn: Variable and Connection accessors; None means empty in-memory ones.
        prior_success: the latest earlier successful run; None when there is none.
        triggering_dataset_events: dataset URI -> events that triggered the run.
        expanded_ti_count: how many instances a mapped task expanded into.
        test_mode: whether the task runs under ``tradewind tasks test``.
        extra: further keys (``exception``, ``outlet_events`` ...); they win over
            the computed ones.

    Raises:
        InvalidInput: ``params`` is None and ``conf`` breaks a Param's schema.
    """
    logical = _utc(logical_date)
    interval = DataInterval(
        _utc(data_interval_start or logical), _utc(data_interval_end or logical)
    )
    ds = logical.strftime("%Y-%m-%d")
    ds_nodash = logical.strftime("%Y%m%d")
    prev_date, next_date = _neighbours(dag, DagRunType(run_type), logical, interval)
    prior = prior_success or PriorSuccess(None, None, None, None, None)
    context: dict[str, Any] = {
        "dag": dag,
        "task": task,
        "run_id": run_id,
        "dag_run": dag_run,
        "ti": ti,
        "task_instance": ti,
        "params": _params(dag, task, conf) if params is None else dict(params),
        "var": var if var is not None else MappingVariableAccessor(),
        "conn": conn if conn is not None else MappingConnectionAccessor(),
        "macros": macros,
        "logical_date": logical,
        "execution_date": logical,
        "data_interval_start": interval.start,
        "data_interval_end": interval.end,
        "ds": ds,
        "ds_nodash": ds_nodash,
        "ts": logical.isoformat(),
        "ts_nodash": logical.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": logical.isoformat().replace("-", "").replace(":", ""),
        "task_instance_key_str": f"{dag.dag_id}__{task.task_id}__{ds_nodash}",
        "prev_execution_date": prev_date,
        "prev_ds": _ds(prev_date),
        "prev_ds_nodash": _ds_nodash(prev_date),
        "next_execution_date": next_date,
        "next_ds": _ds(next_date),
        "next_ds_nodash": _ds_nodash(next_date),
        "yesterday_ds": _ds(logical - timedelta(days=1)),
        "yesterday_ds_nodash": _ds_nodash(logical - timedelta(days=1)),
        "tomorrow_ds": _ds(logical + timedelta(days=1)),
        "tomorrow_ds_nodash": _ds_nodash(logical + timedelta(days=1)),
        "prev_execution_date_success": as_utc(prior.logical_date),
        "prev_data_interval_start_success": as_utc(prior.data_interval_start),
        "prev_data_interval_end_success": as_utc(prior.data_interval_end),
        "prev_start_date_success": as_utc(prior.start_date),
        "prev_end_date_success": as_utc(prior.end_date),
        "inlets": list(task.inlets),
        "outlets": list(task.outlets),
        "triggering_dataset_events": dict(triggering_dataset_events or {}),
        "templates_dict": getattr(task, "templates_dict", None),
        "map_index_template": getattr(task, "map_index_template", None),
        "expanded_ti_count": expanded_ti_count,
        "test_mode": test_mode,
    }
    context.update(extra or {})
    return context


def _params(dag: DAG, task: BaseOperator, conf: Mapping[str, Any] | None) -> dict[str, Any]:
    resolved = resolve_params(dag.params.merged(task.params), conf)
    for key, value in (conf or {}).items():
        resolved.setdefault(key, value)
    return resolved


def _neighbours(
    dag: DAG, run_type: DagRunType, logical: datetime, interval: DataInterval
) -> tuple[datetime | None, datetime | None]:
    """Airflow's deprecated ``prev_execution_date`` and ``next_execution_date``.

    A manual run's neighbours are its own logical date. Otherwise they exist only
    for interval schedules (cron, timedelta), whose runs tile time: the next run
    starts where this one ends, the previous one ends where this one starts.
    """
    if run_type == DagRunType.MANUAL:
        return logical, logical
    timetable = dag.timetable
    if not timetable.periodic or not interval.start == logical < interval.end:
        return None, None
    try:
        before = timetable.infer_manual_data_interval(run_after=logical)
        prev_date = before.start if before.end == logical and before.start < logical else None
        after = timetable.next_dagrun_info(
            last_automated_data_interval=interval,
            restriction=TimeRestriction(earliest=None, latest=None, catchup=True),
        )
    except (NotImplementedError, ValueError):
        return None, None
    next_date = _utc(after.logical_date) if after is not None else None
    return (_utc(prev_date) if prev_date is not None else None), next_date


def _utc(value: datetime) -> datetime:
    result = as_utc(value)
    assert result is not None
    return result


def _ds(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d")


def _ds_nodash(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y%m%d")
