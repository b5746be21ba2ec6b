"""DAG ⇄ JSON document: ``serialize_dag``, ``deserialize_dag`` and ``dag_hash``.

The document is ``{"__version": SCHEMA_VERSION, "dag": {...}}``. Inside it, times are
ISO 8601 UTC strings, durations are float seconds, enums are their string values and
free-form values (params, executor_config, template values) use the tagged JSON of
:mod:`tradewind.serialization.encoders`. A task record leaves out every field equal
to its default (as Airflow's does), which keeps a 1,000-task document small enough to
hash and write on every parse.

Versioning: a field added with a default that keeps old documents' meaning does not
bump ``SCHEMA_VERSION``; readers ignore keys they do not know, so an older API server
can read what a newer DAG processor wrote during a rolling upgrade. Removing a field
or changing its meaning or a default bumps the version, and readers refuse documents
of a version they do not know with ``InvalidInput`` (the DAG processor rewrites them
on its next parse).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from tradewind.errors import InvalidInput
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.dag import DAG
from tradewind.sdk.datasets import Dataset
from tradewind.sdk.params import ParamsDict
from tradewind.sdk.task_group import TaskGroup
from tradewind.sdk.time import parse_datetime
from tradewind.sdk.timetables import encode_timetable
from tradewind.sdk.trigger_rules import TriggerRule
from tradewind.sdk.weight_rule import WeightRule
from tradewind.serialization.encoders import (
    canonical_json,
    decode_value,
    encode_datetime,
    encode_param,
    encode_value,
)
from tradewind.serialization.schedule import schedule_facts
from tradewind.serialization.serialized_dag import (
    SerializedDAG,
    SerializedParam,
    SerializedTask,
    SerializedTaskGroup,
    frozen_mapping,
)

#: Version of the document layout; see the module docstring for when it changes.
SCHEMA_VERSION = 1

Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def _optional(encode: Callable[[Any], Any], decode: Callable[[Any], Any]) -> Codec:
    return (
        lambda value: None if value is None else encode(value),
        lambda data: None if data is None else decode(data),
    )


def _encode_params(params: Mapping[str, Any]) -> dict[str, Any]:
    source = params.params() if isinstance(params, ParamsDict) else params
    out: dict[str, Any] = {}
    for name, param in source.items():
        if isinstance(param, SerializedParam):
            param = param.to_param()
        data = encode_param(param)
        del data["__type"]
        out[name] = data
    return out


def _decode_params(data: Mapping[str, Any]) -> Mapping[str, SerializedParam]:
    return frozen_mapping(
        {
            name: SerializedParam(
                value=decode_value(item.get("value")),
                has_default=bool(item.get("has_default", True)),
                description=item.get("description"),
                schema=frozen_mapping(decode_value(item.get("schema") or {})),
            )
            for name, item in data.items()
        }
    )


_SECONDS = _optional(lambda td: td.total_seconds(), lambda s: timedelta(seconds=s))
_DATETIME = _optional(encode_datetime, parse_datetime)
_TUPLE: Codec = (list, tuple)
_OPTIONAL_TUPLE = _optional(list, tuple)
_MAPPING: Codec = (dict, frozen_mapping)
_OPTIONAL_VALUE = _optional(encode_value, lambda data: frozen_mapping(decode_value(data)))
_VALUE_MAPPING: Codec = (
    lambda value: encode_value(dict(value)),
    lambda data: frozen_mapping(decode_value(data)),
)
_PARAMS: Codec = (_encode_params, _decode_params)
_EMAIL = _optional(
    lambda value: value if isinstance(value, str) else list(value),
    lambda data: data if isinstance(data, str) else tuple(data),
)

#: How a field that is not stored as-is crosses the JSON boundary: (encode, decode).
_CODECS: dict[str, Codec] = {
    "start_date": _DATETIME,
    "end_date": _DATETIME,
    "dagrun_timeout": _SECONDS,
    "retry_delay": _SECONDS,
    "max_retry_delay": _SECONDS,
    "execution_timeout": _SECONDS,
    "trigger_rule": (str, TriggerRule),
    "weight_rule": (str, WeightRule),
    "tags": _TUPLE,
    "owners": _TUPLE,
    "template_searchpath": _TUPLE,
    "dataset_uris": _TUPLE,
    "template_fields": _TUPLE,
    "template_ext": _TUPLE,
    "upstream_task_ids": _TUPLE,
    "downstream_task_ids": _TUPLE,
    "inlets": _TUPLE,
    "outlets": _TUPLE,
    "email": _EMAIL,
    "params": _PARAMS,
    "owner_links": _MAPPING,
    "template_fields_renderers": _MAPPING,
    "template_values": _MAPPING,
    "timetable_data": _MAPPING,
    "schedule_interval": _optional(dict, frozen_mapping),
    "executor_config": _VALUE_MAPPING,
    "access_control": _OPTIONAL_VALUE,
}

_TASK_FIELDS = list(dataclasses.fields(SerializedTask))
_DAG_FIELDS = list(dataclasses.fields(SerializedDAG))

#: Document keys that differ from the field name. The timetable's JSON is "timetable"
#: in the document (the attribute of that name is the decoded object); the operator
#: class keeps the keys of Airflow's serialized operators.
_DOC_KEYS = {
    "timetable_data": "timetable",
    "task_type": "_task_type",
    "task_module": "_task_module",
}


def _encode_field(name: str, value: Any) -> Any:
    codec = _CODECS.get(name)
    return codec[0](value) if codec is not None else value


def _decode_field(name: str, data: Any) -> Any:
    codec = _CODECS.get(name)
    return codec[1](data) if codec is not None else data


def _default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _identity(value: Any) -> Any:
    return value


_NO_DEFAULT = object()

#: How each task field is written, worked out once: (field, document key, encoder,
#: JSON of the default). A task record omits fields holding their default.
_TASK_PLAN = [
    (
        f.name,
        _DOC_KEYS.get(f.name, f.name),
        _CODECS[f.name][0] if f.name in _CODECS else _identity,
        _NO_DEFAULT
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        else _encode_field(f.name, _default_of(f)),
    )
    for f in _TASK_FIELDS
]


# -- serialize -----------------------------------------------------------------------


def serialize_dag(dag: DAG) -> dict[str, Any]:
    """The JSON-safe document of ``dag``: only str/int/float/bool/None/list/dict.

    Callables are never stored: callbacks become ``has_on_*_callback`` flags and
    template values that are functions become a stable description of them.
    """
    timetable = dag.timetable
    facts = schedule_facts(timetable)
    values: dict[str, Any] = {
        "dag_id": dag.dag_id,
        "fileloc": dag.fileloc,
        "timetable_data": encode_timetable(timetable),
        "timetable_summary": timetable.summary,
        "timetable_description": timetable.description,
        "schedule_interval": facts.schedule_interval,
        "dataset_expression": facts.dataset_expression,
        "dataset_uris": facts.dataset_uris,
        "owners": sorted({task.owner for task in dag.task_dict.values()}),
        "has_on_success_callback": bool(dag.on_success_callback),
        "has_on_failure_callback": bool(dag.on_failure_callback),
    }
    data: dict[str, Any] = {}
    for f in _DAG_FIELDS:
        if f.name == "task_groups":
            data["task_groups"] = _encode_groups(dag.task_group)
        elif f.name == "tasks":
            data["tasks"] = [_encode_task(task) for task in dag.task_dict.values()]
        else:
            value = values[f.name] if f.name in values else getattr(dag, f.name)
            data[_DOC_KEYS.get(f.name, f.name)] = _encode_field(f.name, value)
    return {"__version": SCHEMA_VERSION, "dag": data}


def _encode_task(task: BaseOperator) -> dict[str, Any]:
    cls = type(task)
    values: dict[str, Any] = {
        "task_type": cls.__name__,
        "task_module": cls.__module__,
        "upstream_task_ids": sorted(task.upstream_task_ids),
        "downstream_task_ids": sorted(task.downstream_task_ids),
        "task_group_id": task.task_group.group_id if task.task_group is not None else None,
        "inlets": _dataset_uris(task.inlets),
        "outlets": _dataset_uris(task.outlets),
        "template_values": {
            name: encode_value(getattr(task, name, None)) for name in cls.template_fields
        },
        "is_mapped": False,
    }
    for event in ("execute", "success", "failure", "retry", "skipped"):
        values[f"has_on_{event}_callback"] = bool(getattr(task, f"on_{event}_callback", None))
    record: dict[str, Any] = {}
    for name, key, encode, default in _TASK_PLAN:
        encoded = encode(values[name] if name in values else getattr(task, name))
        if encoded is not default and encoded != default:
            record[key] = encoded
    return record


def _dataset_uris(items: list[Any]) -> list[str]:
    return [item.uri for item in items if isinstance(item, Dataset)]


def _encode_groups(root: TaskGroup) -> list[dict[str, Any]]:
    """Every group, root first, each before its nested groups (pre-order)."""
    records: list[dict[str, Any]] = []
    stack = [root]
    while stack:
        group = stack.pop()
        children: list[list[str]] = []
        nested: list[TaskGroup] = []
        for key, child in group.children.items():
            if isinstance(child, TaskGroup):
                children.append(["group", key])
                nested.append(child)
            else:
                children.append(["task", key])
        parent = group.parent_group
        records.append(
            {
                "group_id": group.group_id,
                "label": group.label,
                "tooltip": group.tooltip,
                "ui_color": group.ui_color,
                "ui_fgcolor": group.ui_fgcolor,
                "prefix_group_id": group.prefix_group_id,
                "parent_group_id": parent.group_id if parent is not None else None,
                "children": children,
            }
        )
        stack.extend(reversed(nested))
    return records


def dag_hash(data: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a serialized DAG document.

    Equal documents hash equally whatever their key order, so the DAG processor skips
    writing a DAG whose file was re-parsed without a change.
    """
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


# -- deserialize ---------------------------------------------------------------------


def deserialize_dag(data: Mapping[str, Any]) -> SerializedDAG:
    """The read-only DAG stored in ``data`` (a :func:`serialize_dag` document).

    Raises:
        InvalidInput: ``data`` is of an unknown schema version, or malformed.
    """
    if not isinstance(data, Mapping) or "__version" not in data:
        raise InvalidInput("Not a serialized DAG document: no '__version' key.")
    version = data["__version"]
    if version != SCHEMA_VERSION:
        raise InvalidInput(
            f"Serialized DAG has schema version {version!r}, but this Tradewind reads only "
            f"version {SCHEMA_VERSION}; re-parse the DAG file to store it again."
        )
    body = data.get("dag")
    dag_id = body.get("dag_id", "?") if isinstance(body, Mapping) else "?"
    try:
        assert isinstance(body, Mapping), "'dag' must be an object"
        return _decode_dag(body)
    except InvalidInput as exc:
        raise InvalidInput(f"Serialized DAG {dag_id!r} is invalid: {exc}") from exc
    except (AssertionError, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"Serialized DAG {dag_id!r} is malformed: {exc!r}") from exc


def _decode_dag(body: Mapping[str, Any]) -> SerializedDAG:
    # The timetable itself is decoded lazily (see SerializedDAG.timetable); only its shape
    # is checked here, so a malformed document still fails on read.
    timetable = body.get("timetable")
    if not isinstance(timetable, Mapping) or not isinstance(timetable.get("__type"), str):
        raise InvalidInput(f"'timetable' must be an encoded timetable, not {timetable!r}")
    kwargs: dict[str, Any] = {}
    for f in _DAG_FIELDS:
        key = _DOC_KEYS.get(f.name, f.name)
        if key not in body:
            continue
        if key == "tasks":
            kwargs["tasks"] = tuple(_decode_task(record) for record in body["tasks"])
        elif key == "task_groups":
            kwargs["task_groups"] = tuple(_decode_group(record) for record in body["task_groups"])
        else:
            kwargs[f.name] = _decode_field(f.name, body[key])
    return SerializedDAG(**kwargs)


def _decode_task(record: Mapping[str, Any]) -> SerializedTask:
    kwargs: dict[str, Any] = {}
    for f in _TASK_FIELDS:
        key = _DOC_KEYS.get(f.name, f.name)
        if key in record:
            kwargs[f.name] = _decode_field(f.name, record[key])
    return SerializedTask(**kwargs)


def _decode_group(record: Mapping[str, Any]) -> SerializedTaskGroup:
    return SerializedTaskGroup(
        group_id=record["group_id"],
        label=record.get("label"),
        tooltip=record.get("tooltip", ""),
        ui_color=record.get("ui_color", "CornflowerBlue"),
        ui_fgcolor=record.get("ui_fgcolor", "#000"),
        prefix_group_id=record.get("prefix_group_id", True),
        parent_group_id=record.get("parent_group_id"),
        children=tuple((kind, child_id) for kind, child_id in record.get("children", ())),
    )
