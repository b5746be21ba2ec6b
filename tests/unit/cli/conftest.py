"""Every CLI test runs against a fresh TRADEWIND_HOME and an environment without overrides."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tradewind.cli.main import cli


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("TRADEWIND"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def invoke() -> Callable[..., Result]:
    """Run ``tradewind <args>`` in-process; stdout and stderr stay apart on the result."""
    runner = CliRunner()

    def run(*args: str, **kwargs: Any) -> Result:
        return runner.invoke(cli, list(args), **kwargs)

    return run
