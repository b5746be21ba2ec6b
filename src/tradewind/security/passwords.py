"""Password hashing with argon2id, the winner of the Password Hashing Competition.

A hash is self-describing (``$argon2id$v=19$m=65536,t=3,p=4$<salt>$<digest>``): it
carries its algorithm, parameters and salt, so ``UserRow.password_hash`` needs no other
column, and hashes made under older parameters keep verifying after the defaults change
(``needs_rehash`` then says to store a fresh one at the next successful login).

Verification takes about the same time whether the password is wrong, the hash is
malformed or there is no user at all (``verify_password(password, None)`` checks against
a throw-away hash), so response times do not reveal which usernames exist.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: argon2-cffi's defaults (RFC 9106 "low memory" profile: 64 MiB, 3 passes, 4 lanes):
#: about 50 ms a hash on a laptop, slow enough to make guessing expensive.
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """A fresh salted argon2id hash of ``password``, safe to store."""
    return _HASHER.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether ``password`` matches ``password_hash``, compared in constant time.

    Args:
        password: what the user typed.
        password_hash: the stored hash; ``None`` (no user, or password login disabled)
            is never a match, yet costs as much time as a real check.

    Returns:
        True on a match; False on a mismatch or a malformed hash (never raises for them).
    """
    if password_hash is None:
        _verify(_dummy_hash(), password)
        return False
    return _verify(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """Whether ``password_hash`` was made with other parameters than today's defaults.

    A malformed hash needs one too (it can never verify).
    """
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    # Made on first need, not at import: importing this module must stay cheap.
    return _HASHER.hash("tradewind-no-such-user")
