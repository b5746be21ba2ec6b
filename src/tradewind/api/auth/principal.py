"""Who a request comes from (:class:`Principal`), what a backend proved (:class:`Proof`),
and the principals a process trusts again (:class:`PrincipalCache`).

Proving a principal costs three queries (the user, their roles, the roles' permissions)
and, for a password, an argon2 check. :class:`PrincipalCache` lets the next request
with the same credentials skip all of it, under two conditions checked on every
request:

- the security generation (:mod:`tradewind.security.generation`, one tiny query) reads
  the same as when the principal was proven: any change to users, roles, permissions or
  tokens, by any process, moves it, so such a change takes effect on the very next
  request;
- the entry is younger than :data:`PRINCIPAL_TTL` and its credential has not expired (an
  API token's ``expires_at``).

Only successes are remembered, keyed by a digest of the credentials the backend computed
(never the credentials themselves); checks that need no database (signatures, CSRF
tokens, login throttling) still run on every request, before the cache is consulted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from tradewind.security.permissions import Grants
from tradewind.storage.tables import UserRow

#: How long a proven principal is trusted at most, even with no change in the database.
PRINCIPAL_TTL = timedelta(seconds=60)
#: Bound on remembered principals, so a flood of distinct credentials cannot grow memory.
MAX_PRINCIPALS = 4096

#: ``(backend name, credential digest)``.
CredentialKey = tuple[str, bytes]


@dataclass(frozen=True)
class Principal:
    """Who a request comes from and what they may do.

    Attributes:
        user_id: the user's row id.
        username: the user's login name, written to the audit log.
        grants: their permissions through all their roles.
        via: the backend that recognised them (``basic_auth``, ``session``, ``token``).
    """

    user_id: int
    username: str
    grants: Grants
    via: str


@dataclass(frozen=True)
class Proof:
    """The active user a request's credentials prove.

    Attributes:
        user: the user, with their roles loaded.
        expires_at: when the credential itself stops proving anything (an API token's
            expiry); None when it has no end of its own.
    """

    user: UserRow
    expires_at: datetime | None = None


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    generation: int | None
    until: datetime


class PrincipalCache:
    """Principals proven by this process, valid while the security generation holds.

    Thread-safe: the middleware authenticates in worker threads.
    """

    def __init__(self, ttl: timedelta = PRINCIPAL_TTL, max_entries: int = MAX_PRINCIPALS) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: dict[CredentialKey, _Entry] = {}
        self._generation: int | None = None
        self._lock = threading.Lock()

    def holds(self, key: CredentialKey) -> bool:
        """Whether a principal is remembered for ``key`` at all (under any generation):
        when not, reading the generation to check it would be wasted."""
        with self._lock:
            return key in self._entries

    def get(self, key: CredentialKey, generation: int | None, now: datetime) -> Principal | None:
        """The principal proven for ``key`` under ``generation`` and still in date."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry.generation != generation or entry.until <= now:
            return None
        return entry.principal

    def put(
        self,
        key: CredentialKey,
        generation: int | None,
        principal: Principal,
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> None:
        """Remember ``principal`` for ``key``, proven under ``generation``.

        Args:
            generation: read before the principal was loaded (see the module docstring
                of :mod:`tradewind.security.generation`).
            expires_at: when the credential itself ends (an API token's expiry), if ever.
        """
        until = now + self._ttl
        if expires_at is not None:
            until = min(until, expires_at)
        with self._lock:
            if generation != self._generation or len(self._entries) >= self._max_entries:
                # Everything proven under another generation is worthless now.
                self._entries.clear()
                self._generation = generation
            self._entries[key] = _Entry(principal, generation, until)
