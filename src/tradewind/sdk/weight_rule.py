"""Weight rules: how a task's effective priority is derived from its neighbours."""

from __future__ import annotations

from enum import StrEnum

from tradewind.errors import DagDefinitionError


class WeightRule(StrEnum):
    """``downstream``: own weight plus all downstream tasks' (Airflow's default);
    ``upstream``: own plus all upstream; ``absolute``: own weight only."""

    DOWNSTREAM = "downstream"
    UPSTREAM = "upstream"
    ABSOLUTE = "absolute"

    @classmethod
    def parse(cls, value: str | WeightRule) -> WeightRule:
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(rule.value for rule in cls)
            raise DagDefinitionError(
                f"The weight_rule must be one of {names}; got {value!r}."
            ) from None
