"""Tagged JSON for Python values: what plain JSON cannot say, said with ``__type``.

A serialized DAG (and later XCom values and run conf) must survive a trip through a
JSON column and come back as the same value, without the reader importing user code.
JSON-native values (str, int, finite float, bool, None, lists, dicts with str keys)
are written as they are, so a document stays readable and cheap. Anything else
becomes a dict tagged by ``"__type"``:

    datetime     {"__type": "datetime", "value": "2024-01-01T00:00:00+00:00"}  (UTC)
    date         {"__type": "date", "value": "2024-01-01"}
    timedelta    {"__type": "TimeDelta", "days": 1, "seconds": 0, "microseconds": 0}
    relativedelta {"__type": "RelativeDelta", "years": 0, ..., "year": None, ...}
    set, tuple   {"__type": "set" | "frozenset" | "tuple", "items": [...]}
    float        {"__type": "float", "value": "nan" | "inf" | "-inf"}
    dict         {"__type": "dict", "items": [[key, value], ...]}  (non-str keys, or
                 a user dict that itself has a "__type" key)
    Dataset      {"__type": "dataset", "uri": ..., "extra": ...}
    condition    {"__type": "dataset_condition", "expression": {"any": [...]}}
    Param        {"__type": "param", "value": ..., "has_default": ..., ...}
    DagParam     {"__type": "dag_param", "name": ..., "default": <param or value>}
    Enum         {"__type": "enum", "class": "pkg.mod.Name", "value": ...}
    XComArg      {"__type": "xcomarg", "task_id": ..., "key": ...}

``TimeDelta`` and ``RelativeDelta`` use the names and fields of the REST API's
components, so the API can hand them out unchanged. Set items are sorted by their
canonical JSON so one value always encodes to the same text: the DAG hash relies on it.
"""

from __future__ import annotations

import enum
import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta, weekday

from tradewind.errors import InvalidInput
from tradewind.sdk.datasets import Dataset, DatasetCondition, condition_from_expression
from tradewind.sdk.params import NOTSET, DagParam, Param
from tradewind.sdk.states import DagRunState, DagRunType, TaskInstanceState
from tradewind.sdk.time import as_utc, parse_datetime
from tradewind.sdk.timetables.delta import RELATIVEDELTA_FIELDS
from tradewind.sdk.trigger_rules import TriggerRule
from tradewind.sdk.weight_rule import WeightRule
from tradewind.sdk.xcom_arg import XComArg

TYPE_KEY = "__type"

#: Enums the decoder rebuilds by class path. Any other enum decodes to its plain value:
#: the reader must never import a class named by a document it was handed.
_KNOWN_ENUMS: dict[str, type[enum.Enum]] = {
    f"{cls.__module__}.{cls.__qualname__}": cls
    for cls in (TriggerRule, WeightRule, DagRunState, DagRunType, TaskInstanceState)
}

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


@dataclass(frozen=True)
class XComArgRef:
    """A decoded XComArg: which task's XCom (and key) a template field will receive.

    The serialized side has no operator objects, so it keeps the reference by id.
    """

    task_id: str
    key: str = "return_value"


def encode_value(value: Any, *, strict: bool = False) -> Any:
    """``value`` as JSON-safe data (str/int/float/bool/None/list/dict) that
    :func:`decode_value` turns back into an equal value.

    Args:
        value: any value; containers are encoded recursively.
        strict: raise on a value of an unknown type instead of writing its ``repr``.
            The DAG serializer is lenient (the UI only shows template values); XCom
            and conf should be strict, because a ``repr`` does not round-trip.

    Raises:
        InvalidInput: ``strict`` and a value has no tagged encoding.
    """
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is int:
        return value
    if kind is float:
        if math.isfinite(value):
            return value
        return {TYPE_KEY: "float", "value": "nan" if math.isnan(value) else repr(value)}
    if kind is list:
        return [encode_value(item, strict=strict) for item in value]
    if kind is dict:
        if TYPE_KEY not in value and all(type(key) is str for key in value):
            return {key: encode_value(item, strict=strict) for key, item in value.items()}
        items = [
            [encode_value(k, strict=strict), encode_value(v, strict=strict)]
            for k, v in value.items()
        ]
        return {TYPE_KEY: "dict", "items": items}
    return _encode_tagged(value, strict)


def _encode_tagged(value: Any, strict: bool) -> Any:
    if isinstance(value, enum.Enum):
        cls = type(value)
        path = f"{cls.__module__}.{cls.__qualname__}"
        return {TYPE_KEY: "enum", "class": path, "value": encode_value(value.value, strict=strict)}
    if isinstance(value, datetime):
        return {TYPE_KEY: "datetime", "value": encode_datetime(value)}
    if isinstance(value, date):
        return {TYPE_KEY: "date", "value": value.isoformat()}
    if isinstance(value, timedelta):
        return encode_timedelta(value)
    if isinstance(value, relativedelta):
        return encode_relativedelta(value)
    if isinstance(value, tuple):
        return {TYPE_KEY: "tuple", "items": [encode_value(item, strict=strict) for item in value]}
    if isinstance(value, set | frozenset):
        tag = "frozenset" if isinstance(value, frozenset) else "set"
        items = [encode_value(item, strict=strict) for item in value]
        items.sort(key=canonical_json)
        return {TYPE_KEY: tag, "items": items}
    if isinstance(value, Dataset):
        return {TYPE_KEY: "dataset", "uri": value.uri, "extra": encode_value(value.extra)}
    if isinstance(value, DatasetCondition):
        return {TYPE_KEY: "dataset_condition", "expression": value.as_expression()}
    if isinstance(value, Param):
        return encode_param(value)
    if isinstance(value, DagParam):
        default = value.default
        encoded = encode_param(default if isinstance(default, Param) else Param(default))
        return {TYPE_KEY: "dag_param", "name": value.name, "default": encoded}
    if isinstance(value, XComArg):
        return {TYPE_KEY: "xcomarg", "task_id": value.operator.task_id, "key": value.key}
    if isinstance(value, XComArgRef):
        return {TYPE_KEY: "xcomarg", "task_id": value.task_id, "key": value.key}
    if isinstance(value, str | int | float | list | dict):  # subclasses of the plain types
        plain = {str: str, int: int, float: float, list: list, dict: dict}
        for base, convert in plain.items():
            if isinstance(value, base):
                return encode_value(convert(value), strict=strict)
    if strict:
        raise InvalidInput(f"Cannot encode a value of type {type(value).__name__} as JSON.")
    return stable_repr(value)


def decode_value(data: Any) -> Any:
    """The value :func:`encode_value` encoded as ``data``.

    Raises:
        InvalidInput: ``data`` holds a tagged value of an unknown ``__type``, or a
            malformed one.
    """
    kind = type(data)
    if kind is list:
        return [decode_value(item) for item in data]
    if kind is not dict:
        return data
    tag = data.get(TYPE_KEY)
    if tag is None:
        return {key: decode_value(item) for key, item in data.items()}
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise InvalidInput(f"Cannot decode a value tagged {tag!r}: unknown __type.")
    try:
        return decoder(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"Malformed {tag!r} value {data!r}: {exc}") from None


def encode_datetime(value: datetime) -> str:
    """ISO 8601 in UTC; a naive datetime is taken to be UTC, as everywhere in Tradewind."""
    utc = as_utc(value)
    assert utc is not None
    return utc.isoformat()


def encode_timedelta(value: timedelta) -> dict[str, Any]:
    """The REST API's ``TimeDelta`` component."""
    return {
        TYPE_KEY: "TimeDelta",
        "days": value.days,
        "seconds": value.seconds,
        "microseconds": value.microseconds,
    }


def encode_relativedelta(value: relativedelta) -> dict[str, Any]:
    """The REST API's ``RelativeDelta`` component, plus ``weekday`` when one is set."""
    data: dict[str, Any] = {TYPE_KEY: "RelativeDelta"}
    for name in RELATIVEDELTA_FIELDS:
        field_value = getattr(value, name)
        data[name] = int(field_value) if field_value is not None else None
    if value.weekday is not None:
        data["weekday"] = [value.weekday.weekday, value.weekday.n]
    return data


def encode_param(param: Param) -> dict[str, Any]:
    return {
        TYPE_KEY: "param",
        "value": None if param.value is NOTSET else encode_value(param.value),
        "has_default": param.value is not NOTSET,
        "description": param.description,
        "schema": encode_value(dict(param.schema)),
    }


def decode_param(data: dict[str, Any]) -> Param:
    default = decode_value(data["value"]) if data.get("has_default", True) else NOTSET
    return Param(default, data.get("description"), **decode_value(data.get("schema") or {}))


def canonical_json(data: Any) -> str:
    """One text per JSON value: sorted keys, no spaces. Used for hashing and sorting."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def stable_repr(value: Any) -> str:
    """``repr`` without memory addresses, so one DAG parsed twice encodes identically."""
    if callable(value) and hasattr(value, "__qualname__"):
        return f"<{type(value).__name__} {getattr(value, '__module__', '?')}.{value.__qualname__}>"
    return _ADDRESS.sub("", repr(value))


def _decode_relativedelta(data: dict[str, Any]) -> relativedelta:
    kwargs = {name: data[name] for name in RELATIVEDELTA_FIELDS if data.get(name) is not None}
    if data.get("weekday") is not None:
        day, n = data["weekday"]
        kwargs["weekday"] = weekday(day, n)
    return relativedelta(**kwargs)


def _decode_enum(data: dict[str, Any]) -> Any:
    raw = decode_value(data["value"])
    cls = _KNOWN_ENUMS.get(data.get("class", ""))
    return cls(raw) if cls is not None else raw


def _decode_float(data: dict[str, Any]) -> float:
    return float(data["value"])


_DECODERS: dict[str, Any] = {
    "datetime": lambda d: parse_datetime(d["value"]),
    "date": lambda d: date.fromisoformat(d["value"]),
    "TimeDelta": lambda d: timedelta(
        days=d["days"], seconds=d["seconds"], microseconds=d["microseconds"]
    ),
    "RelativeDelta": _decode_relativedelta,
    "tuple": lambda d: tuple(decode_value(item) for item in d["items"]),
    "set": lambda d: {decode_value(item) for item in d["items"]},
    "frozenset": lambda d: frozenset(decode_value(item) for item in d["items"]),
    "float": _decode_float,
    "dict": lambda d: {decode_value(k): decode_value(v) for k, v in d["items"]},
    "dataset": lambda d: Dataset(d["uri"], decode_value(d.get("extra"))),
    "dataset_condition": lambda d: condition_from_expression(d["expression"]),
    "param": decode_param,
    "dag_param": lambda d: DagParam(d["name"], decode_param(d["default"])),
    "enum": _decode_enum,
    "xcomarg": lambda d: XComArgRef(d["task_id"], d.get("key", "return_value")),
}
