"""Datasets: URI validation, ``|``/``&`` conditions, their expressions and evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from tradewind.errors import DagDefinitionError
from tradewind.sdk import DAG, BaseOperator, Dataset, DatasetAll, DatasetAny
from tradewind.sdk.datasets import condition_from_expression

A, B, C = Dataset("s3://bucket/a"), Dataset("s3://bucket/b"), Dataset("file:///tmp/c")


@pytest.mark.parametrize(
    "uri",
    [
        "s3://bucket/key",
        "file:///tmp/x.csv",
        "postgres://db/schema/table",
        "plain-name",
        "x-my://a",
    ],
)
def test_valid_uris(uri: str) -> None:
    assert Dataset(uri).uri == uri


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("", "must be a non-empty string"),
        (None, "must be a non-empty string"),
        (" s3://a", "must be a non-empty string"),
        ("s3://a b", "must not contain whitespace"),
        ("airflow://dag/x", "scheme 'airflow' is reserved"),
        ("Tradewind://x", "scheme 'tradewind' is reserved"),
    ],
)
def test_invalid_uris(uri: Any, message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        Dataset(uri)


def test_identity_is_the_uri_alone() -> None:
    with_extra = Dataset("s3://bucket/a", extra={"owner": "team"})
    assert with_extra == A and hash(with_extra) == hash(A)
    assert len({A, with_extra, B}) == 2
    assert with_extra.extra == {"owner": "team"}


def test_or_and_build_conditions() -> None:
    either, both = A | B, A & B
    assert isinstance(either, DatasetAny) and either.objects == (A, B)
    assert isinstance(both, DatasetAll) and both.objects == (A, B)
    assert (A | B) == DatasetAny(A, B) and (A | B) != DatasetAll(A, B)
    assert hash(A | B) == hash(DatasetAny(A, B))


@pytest.mark.parametrize(
    ("condition", "expression"),
    [
        (A, "s3://bucket/a"),
        (A | B, {"any": ["s3://bucket/a", "s3://bucket/b"]}),
        (A & B, {"all": ["s3://bucket/a", "s3://bucket/b"]}),
        ((A | B) & C, {"all": [{"any": ["s3://bucket/a", "s3://bucket/b"]}, "file:///tmp/c"]}),
        (A | (B & C), {"any": ["s3://bucket/a", {"all": ["s3://bucket/b", "file:///tmp/c"]}]}),
        (DatasetAll(A, B, C), {"all": ["s3://bucket/a", "s3://bucket/b", "file:///tmp/c"]}),
    ],
)
def test_expression_round_trip(condition: Any, expression: Any) -> None:
    assert condition.as_expression() == expression
    assert condition_from_expression(expression) == condition


@pytest.mark.parametrize("bad", [5, None, {"none": ["s3://a"]}, {"any": ["a"], "all": ["b"]}])
def test_bad_expression(bad: Any) -> None:
    with pytest.raises(ValueError, match="Not a dataset expression"):
        condition_from_expression(bad)


def test_iter_datasets_is_unique_in_first_mention_order() -> None:
    assert ((B | A) & (A | C) & B).iter_datasets() == [B, A, C]
    assert A.iter_datasets() == [A]


@pytest.mark.parametrize(
    ("updated", "any_ab", "all_ab", "a_or_b_and_c"),
    [
        (set(), False, False, False),
        ({"s3://bucket/a"}, True, False, False),
        ({"s3://bucket/a", "s3://bucket/b"}, True, True, False),
        ({"s3://bucket/b", "file:///tmp/c"}, True, False, True),
        ({"file:///tmp/c"}, False, False, False),
    ],
)
def test_evaluate(updated: set[str], any_ab: bool, all_ab: bool, a_or_b_and_c: bool) -> None:
    flags = dict.fromkeys(updated, True)
    assert (A | B).evaluate(flags) is any_ab
    assert (A & B).evaluate(flags) is all_ab
    assert ((A | B) & C).evaluate(flags) is a_or_b_and_c
    assert A.evaluate({"s3://bucket/a": False}) is False


def test_list_schedule_means_all_datasets() -> None:
    dag = DAG("consumer", schedule=[A, B])
    assert not dag.timetable.periodic
    assert dag.timetable.condition == {"all": ["s3://bucket/a", "s3://bucket/b"]}


def test_condition_schedule_keeps_its_shape() -> None:
    dag = DAG("consumer", schedule=(A | B) & C)
    assert dag.timetable.condition == ((A | B) & C).as_expression()
    assert dag.timetable.dataset_uris == ["s3://bucket/a", "s3://bucket/b", "file:///tmp/c"]


def test_outlets_and_inlets_accept_one_dataset_or_a_list() -> None:
    task = BaseOperator(task_id="t", outlets=A, inlets=[B, C])
    assert task.outlets == [A] and task.inlets == [B, C]
