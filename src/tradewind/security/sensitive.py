"""Which names hold secrets, and hiding the values found under them.

One rule, shared by the task runner (which masks secret values in logs) and the API
(which masks them in responses): a variable, connection field or JSON key is secret
when its name contains one of :data:`SENSITIVE_NAMES`, case-insensitively, as Airflow's
``should_hide_value_for_key`` decides. ``DB_PASSWORD`` and ``github_token`` are secret;
``host`` is not.

Pure functions on plain data: no configuration, no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Parts of a name that mark its value as secret (Airflow's ``DEFAULT_SENSITIVE_FIELDS``).
SENSITIVE_NAMES: frozenset[str] = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "authorization",
        "passphrase",
        "passwd",
        "password",
        "private_key",
        "secret",
        "token",
        "keyfile_dict",
        "service_account",
    }
)

#: What a secret is replaced with.
MASK = "***"


def is_sensitive_name(name: str) -> bool:
    """Whether a variable, field or extra key named ``name`` holds a secret."""
    lowered = name.strip().lower()
    return any(part in lowered for part in SENSITIVE_NAMES)


def redact(value: Any, name: str | None = None) -> Any:
    """A copy of ``value`` (decoded JSON) with what sensitive keys hold replaced by ``***``.

    Under a sensitive key, every string and number is masked, at any depth of nested
    lists and mappings; ``None`` and booleans stay (they reveal nothing). Elsewhere,
    mappings and lists are walked and other values are kept as they are.

    Args:
        value: a JSON-like structure (mappings, lists, scalars).
        name: the key ``value`` was found under; None at the top.
    """
    hide = name is not None and is_sensitive_name(name)
    if isinstance(value, Mapping):
        return {
            key: _masked(item) if hide else redact(item, str(key)) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_masked(item) if hide else redact(item, name) for item in value]
    return _masked(value) if hide else value


def _masked(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    if value is None or isinstance(value, bool):
        return value
    return MASK
