"""Redaction of secrets in task logs: every registered value becomes ``***``.

Secrets are registered while a run goes on — a connection's password when the
connection is built, a variable's value when its key looks sensitive — and from
then on every log line the task writes (messages, ``print`` output, tracebacks)
is masked before it reaches a file or the console. Values shorter than
``min_length`` are not masked, as in Airflow (``[logging] min_length_masked_secret``),
because masking ``"a"`` or ``"true"`` would make every log unreadable.

Which names are secret is decided in :mod:`tradewind.security.sensitive`, the rule the
API's responses follow too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from tradewind.security.sensitive import MASK, is_sensitive_name

#: Default shortest value that is masked (characters).
DEFAULT_MIN_LENGTH = 5


class SecretsMasker:
    """A set of secret values and the function replacing them in text.

    Thread-safe: a task may register secrets from worker threads while the log
    handler masks lines.
    """

    def __init__(self, min_length: int = DEFAULT_MIN_LENGTH) -> None:
        self.min_length = min_length
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, secret: Any, name: str | None = None) -> None:
        """Register ``secret`` for masking, following Airflow's ``mask_secret`` rules.

        Args:
            secret: a string (numbers are masked as text), or a dict/list of them.
                A dict's values are registered when their own key is sensitive, at
                any depth; a list's items inherit ``name``.
            name: the key the value was found under. None means ``secret`` is known
                to be secret; a name that is not sensitive registers nothing.
        """
        if isinstance(secret, Mapping):
            for key, value in secret.items():
                self.add(value, str(key))
            return
        if isinstance(secret, list | tuple | set | frozenset):
            for item in secret:
                self.add(item, name)
            return
        if secret is None or isinstance(secret, bool):
            return
        if name is not None and not is_sensitive_name(name):
            return
        text = str(secret)
        candidates = {text, *(line for line in text.splitlines() if line.strip())}
        with self._lock:
            before = len(self._secrets)
            self._secrets.update(c for c in candidates if len(c) >= self.min_length)
            if len(self._secrets) != before:
                self._pattern = None

    def add_variable(self, key: str, value: Any) -> None:
        """Register a variable's value when its key (or a nested key of it) is sensitive."""
        self.add(value, key)

    def add_connection(self, password: str | None, extra: Any = None) -> None:
        """Register a connection's password and the sensitive fields of its extra."""
        if password:
            self.add(password)
        if isinstance(extra, Mapping):
            self.add(extra)

    def add_all(self, secrets: Iterable[Any]) -> None:
        for secret in secrets:
            self.add(secret)

    def mask(self, text: str) -> str:
        """``text`` with every registered secret replaced by ``***``."""
        pattern = self._compiled()
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)

    def __contains__(self, secret: object) -> bool:
        return secret in self._secrets

    def __len__(self) -> int:
        return len(self._secrets)

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._secrets:
                # Longest first, so a secret containing another is masked whole.
                ordered = sorted(self._secrets, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(s) for s in ordered))
            return self._pattern


class _MaskingLookup:
    """A ``var.value``/``var.json`` lookup that registers sensitive values it returns."""

    def __init__(self, inner: Any, masker: SecretsMasker) -> None:
        self._inner = inner
        self._masker = masker

    def get(self, key: str, default: Any = None) -> Any:
        value = self._inner.get(key, default)
        if value is not default:
            self._masker.add_variable(key, value)
        return value

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        value = getattr(self._inner, key)
        self._masker.add_variable(key, value)
        return value


class MaskingVariableAccessor:
    """Wraps a template ``var`` accessor: a sensitive Variable is masked once it is read.

    This is how values from a database-backed accessor, which cannot be listed up
    front, reach the masker — as Airflow's ``Variable.get`` calls ``mask_secret``.
    """

    def __init__(self, inner: Any, masker: SecretsMasker) -> None:
        self.value = _MaskingLookup(inner.value, masker)
        self.json = _MaskingLookup(inner.json, masker)


class MaskingConnectionAccessor:
    """Wraps a template ``conn`` accessor: a connection's password (and the sensitive
    fields of its extra) are masked once the connection is read."""

    def __init__(self, inner: Any, masker: SecretsMasker) -> None:
        self._inner = inner
        self._masker = masker

    def get(self, conn_id: str, default_conn: Any = None) -> Any:
        conn = self._inner.get(conn_id, default_conn)
        if conn is not default_conn:
            self._register(conn)
        return conn

    def __getattr__(self, conn_id: str) -> Any:
        if conn_id.startswith("_"):
            raise AttributeError(conn_id)
        conn = getattr(self._inner, conn_id)
        self._register(conn)
        return conn

    def _register(self, conn: Any) -> None:
        try:
            extra = conn.extra_dejson
        except (AttributeError, ValueError):  # no extra, or extra that is not JSON
            extra = None
        self._masker.add_connection(getattr(conn, "password", None), extra)
