"""From what a DAG author writes as ``schedule=`` to a timetable, and to/from JSON.

:func:`timetable_from_schedule` is the one place a schedule value is interpreted.
:func:`encode_timetable` / :func:`decode_timetable` give every timetable, built-in or
user-written, one JSON shape: ``{"__type": "<module.Class>", "__var": {...}}``.
Built-ins (under Tradewind's or Airflow's class paths) are rebuilt from a fixed
table; any other class is imported by its dotted path, so only decode documents
that came from your own DAG processor.
"""

from __future__ import annotations

import importlib
from datetime import timedelta, tzinfo
from typing import Any

from dateutil.relativedelta import relativedelta

from tradewind.sdk.timetables.base import InvalidTimetable, Timetable
from tradewind.sdk.timetables.events import EventsTimetable
from tradewind.sdk.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from tradewind.sdk.timetables.simple import (
    ContinuousTimetable,
    DatasetTriggeredTimetable,
    NullTimetable,
    OnceTimetable,
)
from tradewind.sdk.timetables.trigger import CronTriggerTimetable

TYPE_KEY = "__type"
VALUE_KEY = "__var"

_BUILTINS: tuple[type[Timetable], ...] = (
    NullTimetable,
    OnceTimetable,
    ContinuousTimetable,
    DatasetTriggeredTimetable,
    CronDataIntervalTimetable,
    DeltaDataIntervalTimetable,
    CronTriggerTimetable,
    EventsTimetable,
)

#: Airflow 2's module for each built-in, so documents written by Airflow decode too.
_AIRFLOW_MODULES = {
    "NullTimetable": "airflow.timetables.simple",
    "OnceTimetable": "airflow.timetables.simple",
    "ContinuousTimetable": "airflow.timetables.simple",
    "DatasetTriggeredTimetable": "airflow.timetables.simple",
    "CronDataIntervalTimetable": "airflow.timetables.interval",
    "DeltaDataIntervalTimetable": "airflow.timetables.interval",
    "CronTriggerTimetable": "airflow.timetables.trigger",
    "EventsTimetable": "airflow.timetables.events",
}

_BY_PATH: dict[str, type[Timetable]] = {
    **{f"{cls.__module__}.{cls.__qualname__}": cls for cls in _BUILTINS},
    **{f"{_AIRFLOW_MODULES[cls.__name__]}.{cls.__name__}": cls for cls in _BUILTINS},
}


def timetable_from_schedule(schedule: Any, *, timezone: str | tzinfo = "UTC") -> Timetable:
    """The timetable for a DAG's ``schedule=`` argument, validated.

    Args:
        schedule: None (manual runs only), ``"@once"``, ``"@continuous"``, a cron
            expression or preset (``"@daily"``), a ``timedelta`` or
            ``relativedelta``, a ``Timetable``, a dataset (object with ``.uri``), a
            dataset condition, or a list of datasets.
        timezone: the DAG's timezone, where cron wall-clock times are read.

    Raises:
        InvalidTimetable: the value is of an unsupported type or does not
            validate (bad cron expression, non-positive delta, unknown timezone).
    """
    timetable = _build(schedule, timezone)
    timetable.validate()
    return timetable


def _build(schedule: Any, timezone: str | tzinfo) -> Timetable:
    if schedule is None:
        return NullTimetable()
    if isinstance(schedule, Timetable):
        return schedule
    if isinstance(schedule, str):
        if schedule.strip() == "@once":
            return OnceTimetable()
        if schedule.strip() == "@continuous":
            return ContinuousTimetable()
        return CronDataIntervalTimetable(schedule, timezone)
    if isinstance(schedule, timedelta | relativedelta):
        return DeltaDataIntervalTimetable(schedule)
    if _is_datasets(schedule):
        return DatasetTriggeredTimetable.from_datasets(schedule)
    raise InvalidTimetable(
        f"Unsupported schedule of type {type(schedule).__name__}: {schedule!r}. Use None, "
        "a cron expression or preset, @once, @continuous, a timedelta or relativedelta, "
        "a Timetable, or datasets."
    )


def _is_datasets(value: Any) -> bool:
    if isinstance(getattr(value, "uri", None), str) or callable(
        getattr(value, "as_expression", None)
    ):
        return True
    if isinstance(value, list | tuple | set | frozenset):
        return all(isinstance(getattr(item, "uri", None), str) for item in value)
    return False


def encode_timetable(timetable: Timetable) -> dict[str, Any]:
    """``{"__type": "<module.Class>", "__var": timetable.serialize()}``.

    Raises:
        InvalidTimetable: the class cannot be found again by its path (defined
            inside a function), so the document could never be decoded.
    """
    cls = type(timetable)
    if "<locals>" in cls.__qualname__:
        raise InvalidTimetable(
            f"Timetable class {cls.__qualname__} is defined inside a function; "
            "define it at module level so it can be imported by name."
        )
    return {TYPE_KEY: f"{cls.__module__}.{cls.__qualname__}", VALUE_KEY: timetable.serialize()}


def decode_timetable(data: dict[str, Any]) -> Timetable:
    """Rebuild a timetable from :func:`encode_timetable` output.

    Built-in classes come from a fixed table; any other ``__type`` is imported (the
    module must be importable here, e.g. from the DAGs or plugins folder on
    ``sys.path``) and must subclass :class:`Timetable`.

    Raises:
        InvalidTimetable: malformed document, a class that cannot be imported, one
            that is not a timetable, or a ``deserialize`` that fails.
    """
    if not isinstance(data, dict) or not isinstance(data.get(TYPE_KEY), str):
        raise InvalidTimetable(f"Not a serialised timetable: {data!r}")
    path: str = data[TYPE_KEY]
    value = data.get(VALUE_KEY) or {}
    cls = _BY_PATH.get(path) or _import_class(path)
    try:
        return cls.deserialize(value)
    except InvalidTimetable:
        raise
    except Exception as exc:  # a user's deserialize met a document it did not expect
        raise InvalidTimetable(f"{path}.deserialize failed on {value!r}: {exc!r}") from exc


def _import_class(path: str) -> type[Timetable]:
    module_name, _, qualname = path.rpartition(".")
    found: Any = None
    # Try the longest importable module prefix, so nested classes (Outer.Inner) work.
    while module_name:
        try:
            found = importlib.import_module(module_name)
            break
        except ImportError:
            module_name, _, head = module_name.rpartition(".")
            qualname = f"{head}.{qualname}"
        except Exception as exc:  # the user's module is broken: say which one
            raise InvalidTimetable(
                f"Importing {module_name!r} for timetable {path!r} failed: {exc!r}"
            ) from exc
    if found is None:
        raise InvalidTimetable(
            f"Timetable class {path!r} cannot be imported: no importable module. "
            "Is the module that defines it on sys.path (DAGs or plugins folder)?"
        )
    for attr in qualname.split("."):
        found = getattr(found, attr, None)
    if found is None:
        raise InvalidTimetable(f"Timetable class {path!r} not found in module {module_name!r}.")
    if not (isinstance(found, type) and issubclass(found, Timetable)):
        raise InvalidTimetable(f"{path!r} is not a Timetable subclass.")
    return found
