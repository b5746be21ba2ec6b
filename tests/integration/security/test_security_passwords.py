"""argon2id password hashes: salted, verifiable, constant-time, upgradeable."""

from __future__ import annotations

from argon2 import PasswordHasher

from tradewind.security.passwords import hash_password, needs_rehash, verify_password


def test_a_hash_is_argon2id_salted_and_never_the_password() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")

    assert first.startswith("$argon2id$")
    assert "s3cret" not in first
    assert first != second


def test_the_right_password_verifies_and_a_wrong_one_does_not() -> None:
    stored = hash_password("s3cret")

    assert verify_password("s3cret", stored) is True
    assert verify_password("S3cret", stored) is False
    assert verify_password("", stored) is False


def test_a_missing_or_malformed_hash_never_verifies() -> None:
    assert verify_password("anything", None) is False
    assert verify_password("anything", "not-a-hash") is False
    assert verify_password("anything", "$argon2id$v=19$m=1,t=1,p=1$broken") is False


def test_a_hash_with_old_parameters_needs_a_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("s3cret")

    assert verify_password("s3cret", weak) is True
    assert needs_rehash(weak) is True
    assert needs_rehash(hash_password("s3cret")) is False
    assert needs_rehash("not-a-hash") is True
