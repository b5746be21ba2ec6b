"""Timetables with no periodic schedule: None, ``@once``, ``@continuous``, datasets.

Their runs are about single moments, so a manual run's data interval is the
instant it was requested for, and runs are ordered by logical date alone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from tradewind.sdk.timetables.base import (
    DagRunInfo,
    DataInterval,
    InvalidTimetable,
    TimeRestriction,
    Timetable,
    require_now,
)
from tradewind.sdk.timetables.zone import require_aware

#: A dataset condition in JSON form: a dataset URI, or ``{"all": [...]}`` /
#: ``{"any": [...]}`` of further conditions.
ConditionTree = str | dict[str, list[Any]]


class _InstantTimetable(Timetable):
    periodic = False
    run_ordering = ("logical_date",)

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        return DataInterval.exact(require_aware(run_after, "run_after"))


class NullTimetable(_InstantTimetable):
    """``schedule=None``: never scheduled; runs only when triggered."""

    description = "Never, external triggers only"
    can_be_scheduled = False

    @property
    def summary(self) -> str:
        return "None"

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        return None


class OnceTimetable(_InstantTimetable):
    """``schedule="@once"``: one run at ``start_date``, whatever catchup says, then none.

    No run when the DAG has no start date or its ``end_date`` is before the start.
    """

    description = "Once, as soon as possible"

    @property
    def summary(self) -> str:
        return "@once"

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        if last_automated_data_interval is not None or restriction.earliest is None:
            return None
        at = require_aware(restriction.earliest, "restriction.earliest")
        if restriction.latest is not None and at > require_aware(restriction.latest, "latest"):
            return None
        return DagRunInfo.exact(at)


class ContinuousTimetable(_InstantTimetable):
    """``schedule="@continuous"``: a new run as soon as the previous one finishes.

    Each run covers the time since the previous run's interval ended, up to
    ``restriction.now``; ``active_runs_limit`` keeps it to one run at a time.
    """

    description = "As frequently as possible, but only one run at a time."
    active_runs_limit = 1

    @property
    def summary(self) -> str:
        return "@continuous"

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        if restriction.earliest is None:
            return None
        now = require_aware(require_now(restriction, "by @continuous"), "now")
        if last_automated_data_interval is not None:
            start = require_aware(last_automated_data_interval.end, "last interval end")
        else:
            start = require_aware(restriction.earliest, "restriction.earliest")
        end = max(start, now)
        if restriction.latest is not None and end > require_aware(restriction.latest, "latest"):
            return None
        return DagRunInfo.interval(start, end)


class DatasetTriggeredTimetable(_InstantTimetable):
    """``schedule=[Dataset(...), ...]``: runs when dataset updates satisfy a condition.

    The scheduler never creates these runs from the clock (``next_dagrun_info`` is
    always None); it asks :meth:`is_satisfied` after datasets are updated.

    Args:
        dataset_uris: every dataset the condition mentions, in first-mention order.
        condition: the condition over those URIs; None means all of them
            (``{"all": dataset_uris}``), Airflow's meaning of a list.

    Raises:
        InvalidTimetable: the condition is malformed or names URIs missing from
            ``dataset_uris``.
    """

    description = "Triggered by datasets"

    def __init__(self, dataset_uris: Sequence[str], condition: ConditionTree | None = None) -> None:
        self.dataset_uris = list(dataset_uris)
        self.condition: ConditionTree = (
            {"all": list(self.dataset_uris)} if condition is None else condition
        )
        mentioned = _uris_in(self.condition)
        missing = [uri for uri in mentioned if uri not in self.dataset_uris]
        if missing:
            raise InvalidTimetable(f"Dataset condition names unlisted datasets: {missing}")

    @classmethod
    def from_datasets(cls, datasets: Any) -> DatasetTriggeredTimetable:
        """Build from what a DAG author passes as ``schedule``.

        Args:
            datasets: an object with a ``.uri`` (a dataset), a condition object with
                ``as_expression()`` (``a | b``, ``a & b``), or an iterable of those,
                which means all of them.

        Raises:
            InvalidTimetable: something in ``datasets`` is neither.
        """
        tree = _to_tree(datasets)
        if isinstance(tree, str):
            tree = {"all": [tree]}
        return cls(_uris_in(tree), tree)

    @property
    def summary(self) -> str:
        return "Dataset"

    def is_satisfied(self, updated_uris: Collection[str]) -> bool:
        """Whether updates to ``updated_uris`` (since the last run) fulfil the condition."""
        return _evaluate(self.condition, updated_uris)

    def data_interval_for_events(
        self, logical_date: datetime, event_intervals: Iterable[DataInterval]
    ) -> DataInterval:
        """The data interval of a run triggered by dataset events.

        Args:
            logical_date: the new run's logical date (aware).
            event_intervals: per triggering event, the data interval of the run that
                produced it, or ``DataInterval.exact(event_time)`` for an event from
                outside any run.

        Returns:
            From the earliest start to the latest end; the instant ``logical_date``
            when there are no events.
        """
        intervals = list(event_intervals)
        if not intervals:
            return DataInterval.exact(require_aware(logical_date, "logical_date"))
        return DataInterval(min(i.start for i in intervals), max(i.end for i in intervals))

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        return None

    def serialize(self) -> dict[str, Any]:
        return {"dataset_uris": list(self.dataset_uris), "condition": self.condition}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        try:
            return cls(data["dataset_uris"], data["condition"])
        except (KeyError, TypeError):
            raise InvalidTimetable(f"Not a serialised dataset timetable: {data!r}") from None


def _to_tree(value: Any) -> ConditionTree:
    uri = getattr(value, "uri", None)
    if isinstance(uri, str):
        return uri
    as_expression = getattr(value, "as_expression", None)
    if callable(as_expression):
        tree = as_expression()
        _uris_in(tree)  # reject what is not a condition tree
        return tree  # type: ignore[no-any-return]
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping):
        return {"all": [_to_tree(item) for item in value]}
    raise InvalidTimetable(
        f"Expected a dataset (an object with a .uri) or a dataset condition, "
        f"got {type(value).__name__}"
    )


def _uris_in(tree: Any) -> list[str]:
    """The URIs of a condition tree in first-mention order; raise if it is malformed."""
    if isinstance(tree, str):
        return [tree]
    if isinstance(tree, dict) and len(tree) == 1:
        ((kind, members),) = tree.items()
        if kind in ("all", "any") and isinstance(members, list):
            found: dict[str, None] = {}
            for member in members:
                found.update(dict.fromkeys(_uris_in(member)))
            return list(found)
    raise InvalidTimetable(f"Not a dataset condition: {tree!r}")


def _evaluate(tree: ConditionTree, updated: Collection[str]) -> bool:
    if isinstance(tree, str):
        return tree in updated
    ((kind, members),) = tree.items()
    results = (_evaluate(member, updated) for member in members)
    return all(results) if kind == "all" else any(results)
