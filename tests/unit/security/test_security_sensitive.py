"""The sensitive-name rule and ``redact``: what the API hides in connection extras."""

from __future__ import annotations

from tradewind.security.sensitive import MASK, is_sensitive_name, redact


def test_names_are_matched_by_part_and_case_insensitively() -> None:
    assert is_sensitive_name(" DB_Password ")
    assert is_sensitive_name("github_token")
    assert not is_sensitive_name("host")


def test_redact_masks_what_sensitive_keys_hold_at_any_depth() -> None:
    extra = {
        "region": "eu",
        "api_key": "abc123",
        "nested": {"client_secret": "s3cr3t", "port": 443, "tokens": ["a", {"x": 1}]},
        "keyfile_dict": {"type": "service", "enabled": True, "n": None},
        "hosts": ["a", "b"],
    }
    assert redact(extra) == {
        "region": "eu",
        "api_key": MASK,
        "nested": {"client_secret": MASK, "port": 443, "tokens": [MASK, {"x": MASK}]},
        "keyfile_dict": {"type": MASK, "enabled": True, "n": None},
        "hosts": ["a", "b"],
    }
    assert extra["api_key"] == "abc123"  # a copy, the input is untouched


def test_redact_leaves_scalars_and_ordinary_lists() -> None:
    assert redact("plain") == "plain"
    assert redact([1, "x"]) == [1, "x"]
    assert redact(12, "password") == MASK
