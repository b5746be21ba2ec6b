"""Ids of DAGs, tasks and task groups: which characters they may contain."""

from __future__ import annotations

import re
from typing import Any

from tradewind.errors import DagDefinitionError

#: Characters allowed in task ids, DAG ids and group ids (Airflow's KEY_REGEX).
KEY_PATTERN = re.compile(r"^[\w.-]+$")
#: Longest id allowed, in characters.
MAX_KEY_LENGTH = 250


def validate_key(kind: str, key: Any) -> str:
    """Return ``key`` if it is a valid id; raise DagDefinitionError naming ``kind`` otherwise."""
    if not isinstance(key, str) or not key:
        raise DagDefinitionError(f"The {kind} must be a non-empty string; got {key!r}.")
    if len(key) > MAX_KEY_LENGTH:
        raise DagDefinitionError(f"The {kind} {key!r} is longer than {MAX_KEY_LENGTH} characters.")
    if not KEY_PATTERN.match(key):
        raise DagDefinitionError(
            f"The {kind} {key!r} may contain only letters, digits, underscores, dashes and dots."
        )
    return key
