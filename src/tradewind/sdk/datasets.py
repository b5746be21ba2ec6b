"""Datasets: named pieces of data whose updates can trigger DAG runs.

``Dataset("s3://bucket/key")`` in a task's ``outlets`` records an update when the
task succeeds; a DAG with ``schedule=[Dataset(...)]`` runs when its datasets are
updated. ``a | b`` and ``a & b`` build conditions, as in Airflow 2.9+.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tradewind.errors import DagDefinitionError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


class DatasetCondition:
    """A boolean combination of datasets; serialises to ``{"all"|"any": [...]}``."""

    def __or__(self, other: DatasetCondition) -> DatasetAny:
        return DatasetAny(self, other)

    def __and__(self, other: DatasetCondition) -> DatasetAll:
        return DatasetAll(self, other)

    def iter_datasets(self) -> list[Dataset]:
        raise NotImplementedError

    def as_expression(self) -> Any:
        raise NotImplementedError

    def evaluate(self, updated: dict[str, bool]) -> bool:
        """Whether the condition holds given which dataset URIs were updated."""
        raise NotImplementedError


@dataclass(frozen=True, eq=True)
class Dataset(DatasetCondition):
    """A dataset named by a URI; ``extra`` is free-form JSON-serialisable metadata.

    Raises:
        DagDefinitionError: the URI is empty, has whitespace, or uses the reserved
            ``airflow``/``tradewind`` scheme.
    """

    uri: str
    extra: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.uri, str) or not self.uri or self.uri != self.uri.strip():
            raise DagDefinitionError(f"Dataset URI must be a non-empty string: {self.uri!r}")
        if any(ch.isspace() for ch in self.uri):
            raise DagDefinitionError(f"Dataset URI must not contain whitespace: {self.uri!r}")
        scheme = urlsplit(self.uri).scheme if "://" in self.uri else ""
        if scheme.lower() in {"airflow", "tradewind"}:
            raise DagDefinitionError(f"Dataset scheme {scheme!r} is reserved: {self.uri!r}")
        if scheme and not _SCHEME.match(scheme):
            raise DagDefinitionError(f"Dataset URI has an invalid scheme: {self.uri!r}")

    def iter_datasets(self) -> list[Dataset]:
        return [self]

    def as_expression(self) -> Any:
        return self.uri

    def evaluate(self, updated: dict[str, bool]) -> bool:
        return updated.get(self.uri, False)


class _DatasetBoolean(DatasetCondition):
    kind = ""

    def __init__(self, *objects: DatasetCondition) -> None:
        self.objects = objects

    def iter_datasets(self) -> list[Dataset]:
        seen: dict[str, Dataset] = {}
        for obj in self.objects:
            for dataset in obj.iter_datasets():
                seen.setdefault(dataset.uri, dataset)
        return list(seen.values())

    def as_expression(self) -> Any:
        return {self.kind: [obj.as_expression() for obj in self.objects]}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _DatasetBoolean)
            and type(other) is type(self)
            and other.objects == self.objects
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.objects))

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self.objects!r}"


class DatasetAny(_DatasetBoolean):
    """True when any of its members was updated."""

    kind = "any"

    def evaluate(self, updated: dict[str, bool]) -> bool:
        return any(obj.evaluate(updated) for obj in self.objects)


class DatasetAll(_DatasetBoolean):
    """True when every member was updated (the meaning of a plain list of datasets)."""

    kind = "all"

    def evaluate(self, updated: dict[str, bool]) -> bool:
        return all(obj.evaluate(updated) for obj in self.objects)


def condition_from_expression(expression: Any) -> DatasetCondition:
    """Rebuild a condition from :meth:`DatasetCondition.as_expression` output."""
    if isinstance(expression, str):
        return Dataset(expression)
    if isinstance(expression, dict) and len(expression) == 1:
        ((kind, members),) = expression.items()
        parts = [condition_from_expression(member) for member in members]
        if kind == "all":
            return DatasetAll(*parts)
        if kind == "any":
            return DatasetAny(*parts)
    raise ValueError(f"Not a dataset expression: {expression!r}")
