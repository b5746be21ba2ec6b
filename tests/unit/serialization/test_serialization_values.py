"""The tagged JSON value encoding: every supported type survives json.dumps/loads."""

from __future__ import annotations

import enum
import json
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import FR, relativedelta

from tradewind.errors import InvalidInput
from tradewind.sdk import DAG, BaseOperator, Dataset, Param, TriggerRule, WeightRule
from tradewind.sdk.params import NOTSET, DagParam
from tradewind.serialization import XComArgRef, decode_value, encode_value


class Colour(enum.Enum):
    RED = "red"


def through_json(value: Any, *, strict: bool = False) -> Any:
    return decode_value(json.loads(json.dumps(encode_value(value, strict=strict), allow_nan=False)))


@pytest.mark.parametrize(
    "value",
    [
        None,
        "text",
        0,
        -3,
        1.5,
        True,
        [1, "a", None],
        {"a": {"b": [1, 2]}},
        datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        date(2024, 2, 29),
        timedelta(days=2, seconds=5, microseconds=7),
        timedelta(seconds=-1),
        relativedelta(months=1, days=-2),
        relativedelta(day=31, hour=0),
        relativedelta(weekday=FR(-1), months=+1),
        {1, 2, 3},
        frozenset({"x", "y"}),
        (1, (2, "3"), [4]),
        {1: "int key", "s": "str key"},
        {"__type": "datetime", "value": "not a date"},
        Dataset("s3://bucket/key", extra={"team": "data"}),
        Dataset("a") | (Dataset("b") & Dataset("c")),
        TriggerRule.ONE_FAILED,
        WeightRule.UPSTREAM,
        XComArgRef("extract", "rows"),
    ],
)
def test_value_round_trips(value: Any) -> None:
    assert through_json(value) == value
    assert type(through_json(value)) is type(value)


def test_json_native_values_are_written_as_they_are() -> None:
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": "d"}}
    assert encode_value(value) == value


def test_datetimes_are_stored_in_utc() -> None:
    local = datetime(2024, 7, 1, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    encoded = encode_value(local)
    assert encoded == {"__type": "datetime", "value": "2024-07-01T10:00:00+00:00"}
    assert decode_value(encoded) == local
    naive = datetime(2024, 1, 1)
    assert decode_value(encode_value(naive)) == naive.replace(tzinfo=UTC)


def test_deltas_use_the_api_components() -> None:
    assert encode_value(timedelta(days=1, seconds=2)) == {
        "__type": "TimeDelta",
        "days": 1,
        "seconds": 2,
        "microseconds": 0,
    }
    encoded = encode_value(relativedelta(months=1))
    assert encoded["__type"] == "RelativeDelta"
    assert encoded["months"] == 1 and encoded["year"] is None


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinite_floats_survive_strict_json(value: float) -> None:
    assert through_json(value) == value


def test_nan_survives_strict_json() -> None:
    assert math.isnan(through_json(math.nan))


def test_set_encoding_does_not_depend_on_insertion_order() -> None:
    assert encode_value({"b", "a", "c"}) == encode_value({"c", "a", "b"})
    assert encode_value({"b", "a"})["items"] == ["a", "b"]


def test_param_round_trips_with_schema_and_description() -> None:
    param = through_json(Param(5, "How many", type="integer", minimum=1))
    assert isinstance(param, Param)
    assert (param.value, param.description, param.schema) == (
        5,
        "How many",
        {"type": "integer", "minimum": 1},
    )
    required = through_json(Param(type="string"))
    assert required.value is NOTSET


def test_unknown_enum_decodes_to_its_value() -> None:
    # The reader never imports a class a document names: Colour is not a known enum.
    assert through_json(Colour.RED) == "red"


def test_xcomarg_becomes_a_reference_by_task_id() -> None:
    class Producer(BaseOperator):
        pass

    with DAG("xcom_dag", schedule=None):
        producer = Producer(task_id="producer")
    encoded = encode_value({"rows": producer.output["rows"]})
    assert encoded == {"rows": {"__type": "xcomarg", "task_id": "producer", "key": "rows"}}
    assert decode_value(encoded) == {"rows": XComArgRef("producer", "rows")}


def test_dag_param_round_trips() -> None:
    decoded = through_json(DagParam("n", 3))
    assert isinstance(decoded, DagParam)
    assert decoded.name == "n"
    assert decoded.resolve({"params": {}}) == 3


def test_unknown_objects_become_a_stable_repr() -> None:
    def helper() -> None: ...

    class Thing:
        pass

    text = encode_value(helper)
    assert text == f"<function {__name__}.{helper.__qualname__}>"
    assert " at 0x" not in encode_value(Thing())


def test_strict_mode_refuses_unknown_objects() -> None:
    with pytest.raises(InvalidInput, match="object"):
        encode_value(object(), strict=True)


def test_unknown_tag_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown __type"):
        decode_value({"__type": "pickle", "value": "..."})


def test_malformed_tagged_value_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Malformed 'datetime'"):
        decode_value({"__type": "datetime", "value": "yesterday"})
    with pytest.raises(InvalidInput, match="Malformed 'TimeDelta'"):
        decode_value({"__type": "TimeDelta", "days": 1})
