"""``tradewind version``, ``tradewind info`` and the root group's help and start-up cost."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import Result

import tradewind
from tradewind.cli.info import mask_password
from tradewind.config import CONFIG_FILE_NAME

Invoke = Callable[..., Result]


def test_version_prints_the_version_and_reads_no_config(invoke: Invoke, home: Path) -> None:
    result = invoke("version")

    assert (result.exit_code, result.stdout) == (0, f"{tradewind.__version__}\n")
    assert not (home / CONFIG_FILE_NAME).exists()


def test_help_lists_the_commands(invoke: Invoke) -> None:
    result = invoke("--help")

    assert result.exit_code == 0
    for name in ("version", "info", "config"):
        assert f"  {name} " in result.stdout


def test_unknown_command_is_a_usage_error(invoke: Invoke) -> None:
    assert invoke("nope").exit_code == 2


def test_importing_the_cli_leaves_heavy_modules_unloaded() -> None:
    """``tradewind version`` must start fast: heavy imports belong inside commands.

    (``tradewind.sdk`` is not listed: ``import tradewind`` exports the authoring names, so
    the SDK itself must stay light, importing Jinja and friends only when rendering.)
    """
    heavy = ["sqlalchemy", "alembic", "jinja2", "rich", "yaml"]
    code = (
        "import sys, tradewind.cli.main; "
        f"print([name for name in {heavy!r} if name in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def info_as_dict(invoke: Invoke, *args: str) -> dict[str, str]:
    result = invoke("info", "-o", "json", *args)
    assert result.exit_code == 0, result.output
    return {row["key"]: row["value"] for row in json.loads(result.stdout)}


def test_info_json_reports_paths_and_settings(invoke: Invoke, home: Path) -> None:
    facts = info_as_dict(invoke)

    assert facts["tradewind_version"] == tradewind.__version__
    assert facts["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert facts["tradewind_home"] == str(home)
    assert facts["config_file"] == str(home / CONFIG_FILE_NAME)
    assert facts["dags_folder"] == str(home / "dags")
    assert facts["executor"] == "LocalExecutor"
    assert facts["sql_alchemy_conn"] == f"sqlite:///{home}/tradewind.db"
    assert facts["base_log_folder"] == str(home / "logs")
    assert facts["platform"]


@pytest.mark.parametrize("output", ["table", "json", "yaml", "plain"])
def test_info_masks_the_database_password_in_every_format(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, output: str
) -> None:
    monkeypatch.setenv(
        "TRADEWIND__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg://tw:s3cret@db:5432/tw"
    )

    result = invoke("info", "--output", output)

    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.stdout
    assert "postgresql+psycopg://tw:***@db:5432/tw" in result.stdout


def test_info_yaml_parses(invoke: Invoke) -> None:
    rows = yaml.safe_load(invoke("info", "-o", "yaml").stdout)

    assert {"key": "executor", "value": "LocalExecutor"} in rows


def test_info_plain_is_one_fact_per_line(invoke: Invoke) -> None:
    lines = invoke("info", "-o", "plain").stdout.splitlines()

    assert lines[0].split() == ["tradewind_version", tradewind.__version__]
    assert any(line.split() == ["executor", "LocalExecutor"] for line in lines)


def test_info_rejects_unknown_output(invoke: Invoke) -> None:
    result = invoke("info", "-o", "xml")

    assert result.exit_code == 2
    assert "'xml' is not one of" in result.stderr


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("sqlite:////tmp/tradewind.db", "sqlite:////tmp/tradewind.db"),
        ("postgresql://tw@db/tw", "postgresql://tw@db/tw"),
        ("postgresql://tw:pw@db:5432/tw", "postgresql://tw:***@db:5432/tw"),
        ("postgresql+psycopg://tw:p:w/x@db/tw", "postgresql+psycopg://tw:***@db/tw"),
        ("redis://:pw@localhost:6379/0", "redis://:***@localhost:6379/0"),
        ("postgresql://db:5432/tw", "postgresql://db:5432/tw"),
    ],
)
def test_mask_password(url: str, masked: str) -> None:
    assert mask_password(url) == masked
