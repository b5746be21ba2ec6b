"""SecretsMasker: which values become ``***`` and where."""

from __future__ import annotations

import pytest

from tradewind.execution.secrets_masker import SecretsMasker, is_sensitive_name


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "DB_PASSWORD",
        "api_key",
        "my_apikey",
        "secret_value",
        "access_token",
        "Authorization",
        "private_key",
        "passwd",
        "github_token",
    ],
)
def test_sensitive_names(name: str) -> None:
    assert is_sensitive_name(name)


@pytest.mark.parametrize("name", ["host", "bucket", "region", "user"])
def test_ordinary_names(name: str) -> None:
    assert not is_sensitive_name(name)


def test_registered_values_are_masked_everywhere_in_a_line() -> None:
    masker = SecretsMasker()
    masker.add("hunter22")
    assert masker.mask("pw=hunter22; again hunter22!") == "pw=***; again ***!"


def test_variable_values_are_registered_only_for_sensitive_keys() -> None:
    masker = SecretsMasker()
    masker.add_variable("bucket", "my-bucket-name")
    masker.add_variable("stripe_api_key", "sk_live_abcdef")
    assert masker.mask("my-bucket-name sk_live_abcdef") == "my-bucket-name ***"


def test_nested_json_variables_mask_sensitive_fields() -> None:
    masker = SecretsMasker()
    masker.add_variable("settings", {"host": "db.example", "password": "s3cr3t-pw"})
    assert masker.mask("db.example s3cr3t-pw") == "db.example ***"


def test_connection_password_and_extra_secrets() -> None:
    masker = SecretsMasker()
    masker.add_connection("conn-pass-1", {"token": "tok-12345", "region": "eu-west-1"})
    assert masker.mask("conn-pass-1 tok-12345 eu-west-1") == "*** *** eu-west-1"


def test_short_values_are_not_masked() -> None:
    masker = SecretsMasker()
    masker.add("abc")
    assert masker.mask("abc") == "abc"


def test_longer_secret_wins_over_its_prefix() -> None:
    masker = SecretsMasker()
    masker.add("secret")
    masker.add("secret-and-more")
    assert masker.mask("x secret-and-more y") == "x *** y"


def test_multiline_secret_lines_are_masked_alone() -> None:
    masker = SecretsMasker()
    masker.add("-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----")
    assert masker.mask("line: AAAABBBBCCCC") == "line: ***"
