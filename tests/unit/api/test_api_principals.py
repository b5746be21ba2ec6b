"""PrincipalCache: a proven principal holds only under its generation, within its TTL and
its credential's own expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tradewind.api.auth.principal import Principal, PrincipalCache
from tradewind.security.permissions import Grants

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ADA = Principal(1, "ada", Grants(frozenset(), is_admin=True), "basic_auth")
BOB = Principal(2, "bob", Grants(frozenset()), "token")
KEY = ("basic_auth", b"ada's digest")


def test_a_principal_holds_under_its_generation_only() -> None:
    cache = PrincipalCache()
    cache.put(KEY, 7, ADA, now=NOW)

    assert cache.get(KEY, 7, NOW) == ADA
    assert cache.get(KEY, 8, NOW) is None
    assert cache.get(KEY, None, NOW) is None
    assert cache.get(("token", b"ada's digest"), 7, NOW) is None


def test_holds_tells_whether_any_principal_is_remembered_for_a_key() -> None:
    cache = PrincipalCache()
    assert not cache.holds(KEY)
    cache.put(KEY, 7, ADA, now=NOW)

    assert cache.holds(KEY)  # whatever the generation: checking it needs the database
    assert not cache.holds(("token", b"ada's digest"))


def test_a_new_generation_forgets_every_older_principal() -> None:
    cache = PrincipalCache()
    cache.put(KEY, 7, ADA, now=NOW)
    cache.put(("token", b"bob"), 8, BOB, now=NOW)

    assert cache.get(("token", b"bob"), 8, NOW) == BOB
    assert cache.get(KEY, 7, NOW) is None  # gone, not merely hidden


def test_the_ttl_and_the_credentials_expiry_bound_it() -> None:
    cache = PrincipalCache(ttl=timedelta(seconds=60))
    cache.put(KEY, 1, ADA, now=NOW)
    cache.put(("token", b"bob"), 1, BOB, now=NOW, expires_at=NOW + timedelta(seconds=5))

    assert cache.get(KEY, 1, NOW + timedelta(seconds=59)) == ADA
    assert cache.get(KEY, 1, NOW + timedelta(seconds=60)) is None
    assert cache.get(("token", b"bob"), 1, NOW + timedelta(seconds=4)) == BOB
    assert cache.get(("token", b"bob"), 1, NOW + timedelta(seconds=5)) is None


def test_memory_stays_bounded() -> None:
    cache = PrincipalCache(max_entries=3)
    for number in range(10):
        cache.put(("basic_auth", bytes([number])), 1, ADA, now=NOW)

    remembered = [n for n in range(10) if cache.get(("basic_auth", bytes([n])), 1, NOW)]
    assert len(remembered) <= 3 and 9 in remembered
