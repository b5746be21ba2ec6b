"""``tradewind db migrate | reset | check`` against every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tradewind.cli.db import db
from tradewind.cli.errors import TradewindGroup
from tradewind.config import Settings, load_settings
from tradewind.storage.database import head_revision

pytestmark = pytest.mark.db


def _invoke(settings: Settings, *args: str) -> Result:
    # The root group maps TradewindError to one line and exit code 1; mimic it here so the
    # test does not depend on how cli/main.py registers this group.
    root = TradewindGroup("tradewind", commands={"db": db})
    return CliRunner().invoke(root, ["db", *args], obj=settings)


def test_migrate_then_check(settings: Settings) -> None:
    migrated = _invoke(settings, "migrate")
    assert migrated.exit_code == 0, migrated.output
    assert f"is at revision {head_revision()}" in migrated.output

    checked = _invoke(settings, "check")
    assert checked.exit_code == 0, checked.output
    assert "up to date" in checked.output


def test_reset_refuses_without_yes(settings: Settings) -> None:
    refused = _invoke(settings, "reset")
    assert refused.exit_code == 1
    assert "run again with --yes" in refused.output


def test_reset_with_yes(settings: Settings) -> None:
    done = _invoke(settings, "reset", "--yes")
    assert done.exit_code == 0, done.output
    assert "was reset" in done.output


def test_check_on_unmigrated_database_exits_1(empty_db_url: str, tmp_path: Path) -> None:
    settings = load_settings(
        environ={"TRADEWIND__DATABASE__SQL_ALCHEMY_CONN": empty_db_url}, home=tmp_path / "home"
    )
    result = _invoke(settings, "check")
    assert result.exit_code == 1
    assert "not initialized; run: tradewind db migrate" in result.output
