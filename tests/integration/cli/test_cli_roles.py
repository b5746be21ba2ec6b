"""``tradewind roles list | create`` on every backend."""

from __future__ import annotations

import json

import pytest
from security_cli_support import invoke, isolated_environment

from tradewind.config import Settings

pytestmark = pytest.mark.db
__all__ = ["isolated_environment"]


def test_list_shows_the_default_roles(settings: Settings) -> None:
    result = invoke(settings, "roles", "list", "-o", "json")
    assert result.exit_code == 0, result.output
    assert [row["name"] for row in json.loads(result.stdout)] == [
        "Admin",
        "Op",
        "Public",
        "User",
        "Viewer",
    ]
    detailed = invoke(settings, "roles", "list", "-p", "-o", "json")
    viewer = next(row for row in json.loads(detailed.stdout) if row["name"] == "Viewer")
    assert "can_read on DAGs" in viewer["permissions"]


def test_create_roles(settings: Settings) -> None:
    created = invoke(settings, "roles", "create", "Analyst", "Auditor", "Viewer")
    assert created.exit_code == 0, created.output
    assert created.stdout.splitlines() == [
        'Role "Analyst" created',
        'Role "Auditor" created',
        'Role "Viewer" already exists',
    ]
    listed = json.loads(invoke(settings, "roles", "list", "-p", "-o", "json").stdout)
    analyst = next(row for row in listed if row["name"] == "Analyst")
    assert analyst == {"name": "Analyst", "permissions": ""}

    blank = invoke(settings, "roles", "create", " ")
    assert blank.exit_code == 1 and blank.stderr == "Error: A role name must not be blank\n"
    missing = invoke(settings, "roles", "create")
    assert missing.exit_code == 2
