"""Params: JSON-schema validated run inputs, overridden by a run's conf."""

from __future__ import annotations

from typing import Any

import pytest

from tradewind.errors import InvalidInput
from tradewind.sdk import DAG, BaseOperator, Param, ParamsDict
from tradewind.sdk.params import NOTSET, resolve_params


def test_plain_values_become_params_without_schema() -> None:
    params = ParamsDict({"a": 1, "b": Param("x", type="string")})
    assert dict(params) == {"a": 1, "b": "x"}
    assert params.get_param("a").schema == {}
    assert params.get_param("b").schema == {"type": "string"}


@pytest.mark.parametrize(
    ("param", "value"),
    [
        (Param(5, type="integer", minimum=1), 7),
        (Param("a", enum=["a", "b"]), "b"),
        (Param([1], type="array", items={"type": "integer"}), [1, 2]),
        (Param("2024-01-01", type="string", format="date"), "2024-12-31"),
        (Param(None, type=["null", "string"]), None),
        (Param({"k": 1}, type="object", required=["k"]), {"k": 2, "other": True}),
    ],
)
def test_valid_values_pass(param: Param, value: Any) -> None:
    assert param.validate(value, "p") == value


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (Param(5, type="integer"), "five", "Invalid value for param 'p': 'five' is not of type"),
        (Param(5, type="integer", maximum=9), 10, "10 is greater than the maximum of 9"),
        (Param("a", enum=["a", "b"]), "c", "'c' is not one of ['a', 'b']"),
        (Param("xx", type="string", minLength=2), "y", "'y' is too short"),
        (Param("2024-01-01", type="string", format="date"), "soon", "'soon' is not a 'date'"),
        (Param({"k": 1}, type="object", required=["k"]), {}, "'k' is a required property"),
    ],
)
def test_invalid_values_name_the_param(param: Param, value: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        param.validate(value, "p")
    assert str(caught.value).startswith("Invalid value for param 'p': ")
    assert message in str(caught.value)


def test_default_is_validated_when_the_param_is_created() -> None:
    with pytest.raises(InvalidInput, match="'x' is not of type 'integer'"):
        Param("x", type="integer")


def test_invalid_schema_is_reported() -> None:
    with pytest.raises(InvalidInput, match="has an invalid schema"):
        Param(1, type="bogus")


def test_required_param() -> None:
    params = ParamsDict({"name": Param(type="string", description="who")})
    assert params["name"] is None  # reading a required param without a value gives None
    assert params.get_param("name").value is NOTSET
    with pytest.raises(InvalidInput) as caught:
        resolve_params(params, {})
    assert str(caught.value) == "Param 'name' is required and has no value."
    assert resolve_params(params, {"name": "ada"}) == {"name": "ada"}


def test_conf_overrides_defaults_and_is_validated() -> None:
    params = ParamsDict({"n": Param(1, type="integer"), "label": "x"})
    assert resolve_params(params, None) == {"n": 1, "label": "x"}
    assert resolve_params(params, {"n": 2}) == {"n": 2, "label": "x"}
    assert resolve_params(params, {"label": 3}) == {"n": 1, "label": 3}
    with pytest.raises(InvalidInput, match="Invalid value for param 'n': 'two' is not of type"):
        resolve_params(params, {"n": "two"})


def test_resolve_returns_only_declared_params() -> None:
    assert resolve_params(ParamsDict({"a": 1}), {"a": 2, "undeclared": 3}) == {"a": 2}


def test_dag_params_merge_default_args_params_and_validate_conf() -> None:
    dag = DAG(
        "d",
        default_args={"params": {"a": 1, "b": 1}},
        params={"b": Param(2, type="integer")},
    )
    assert dict(dag.params) == {"a": 1, "b": 2}
    assert "params" not in dag.default_args
    assert dag.resolve_params({"b": 5}) == {"a": 1, "b": 5}
    with pytest.raises(InvalidInput, match="param 'b'"):
        dag.resolve_params({"b": "five"})


def test_task_params_come_from_default_args_and_arguments() -> None:
    with DAG("d"):
        inherited = BaseOperator(task_id="t", default_args={"params": {"x": 1}}, params={"y": 2})
    assert dict(inherited.params) == {"x": 1, "y": 2}


def test_params_dict_is_a_mutable_mapping() -> None:
    params = ParamsDict({"a": 1})
    params["b"] = Param(2, type="integer")
    del params["a"]
    assert list(params) == ["b"] and len(params) == 1
    copy = params.copy()
    copy["c"] = 3
    assert "c" not in params


def test_merged_lays_params_over_a_copy() -> None:
    base = ParamsDict({"a": 1, "b": Param(2, type="integer")})
    merged = base.merged({"b": 3, "c": 4})
    assert dict(merged) == {"a": 1, "b": 3, "c": 4}
    assert dict(base) == {"a": 1, "b": 2}
    assert merged.get_param("b").schema == {}  # a plain value replaces the Param
    assert base.merged(None) is not base


def test_dump_for_serialisation() -> None:
    params = ParamsDict({"n": Param(1, type="integer", description="count"), "req": Param()})
    assert params.dump() == {
        "n": {
            "value": 1,
            "has_default": True,
            "description": "count",
            "schema": {"type": "integer"},
        },
        "req": {"value": None, "has_default": False, "description": None, "schema": {}},
    }
