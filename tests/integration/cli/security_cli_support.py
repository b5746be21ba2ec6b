"""Running ``tradewind`` in-process for the security commands' tests (users, roles,
rotate-fernet-key): the test's settings injected, no ``TRADEWIND__`` overrides leaking
in from the environment, and stdout and stderr kept apart."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tradewind.cli.main import cli
from tradewind.config import Settings


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("TRADEWIND__") or name == "TRADEWIND_DEBUG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path))


def invoke(settings: Settings, *args: str) -> Result:
    """``tradewind <args>`` with ``settings``; the result, whatever the exit code."""
    return CliRunner().invoke(cli, list(args), obj=settings)


def ok(settings: Settings, *args: str) -> Result:
    """``tradewind <args>``, which must succeed."""
    result = invoke(settings, *args)
    assert result.exit_code == 0, result.output
    return result
