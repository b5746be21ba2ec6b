"""``tradewind config get-value`` and ``tradewind config list``, in-process and as a script."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import Result

from tradewind.cli import context
from tradewind.cli.main import cli
from tradewind.config import CONFIG_FILE_NAME, Settings, load_settings

Invoke = Callable[..., Result]
SECRET_URL = "postgresql+psycopg://tw:s3cret@db:5432/tradewind"


def test_get_value_prints_the_default(invoke: Invoke) -> None:
    result = invoke("config", "get-value", "core", "parallelism")

    assert (result.exit_code, result.stdout, result.stderr) == (0, "32\n", "")


def test_get_value_follows_the_environment(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND__CORE__PARALLELISM", "64")

    assert invoke("config", "get-value", "core", "parallelism").stdout == "64\n"


def test_get_value_prints_secrets_as_airflow_does(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND__DATABASE__SQL_ALCHEMY_CONN", SECRET_URL)

    assert invoke("config", "get-value", "database", "sql_alchemy_conn").stdout == (
        SECRET_URL + "\n"
    )


def test_get_value_expands_home(invoke: Invoke, home: Path) -> None:
    assert invoke("config", "get-value", "core", "dags_folder").stdout == f"{home / 'dags'}\n"


@pytest.mark.parametrize(("section", "key"), [("core", "nope"), ("nope", "parallelism")])
def test_get_value_of_unknown_option_is_one_error_line(
    invoke: Invoke, section: str, key: str
) -> None:
    result = invoke("config", "get-value", section, key)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: The option [{section}/{key}] is not found in config.\n"


def test_missing_argument_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("config", "get-value", "core")

    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


def test_malformed_config_file_is_one_error_line(invoke: Invoke, home: Path) -> None:
    (home / CONFIG_FILE_NAME).write_text("parallelism = 8\n", encoding="utf-8")

    result = invoke("config", "get-value", "core", "parallelism")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "is not a valid config file" in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_wrong_type_names_the_option(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND__CORE__PARALLELISM", "abc")

    result = invoke("config", "get-value", "core", "parallelism")

    assert (result.exit_code, result.stderr) == (
        1,
        "Error: [core] parallelism must be int, got 'abc'\n",
    )


def test_injected_settings_are_used(invoke: Invoke, home: Path) -> None:
    settings = load_settings({"TRADEWIND_HOME": str(home)}).replace("core", parallelism=3)

    result = invoke("config", "get-value", "core", "parallelism", obj=settings)

    assert result.stdout == "3\n"


def test_settings_are_loaded_once_per_invocation(
    monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    calls: list[int] = []

    def counting_load() -> Settings:
        calls.append(1)
        return load_settings({"TRADEWIND_HOME": str(home)})

    monkeypatch.setattr(context, "load_settings", counting_load)
    root = click.Context(cli)
    child = click.Context(cli, parent=root)

    first = context.get_settings(child)

    assert context.get_settings(root) is first
    assert context.get_settings(child) is first
    assert calls == [1]


def test_list_prints_every_section_as_ini(invoke: Invoke, home: Path) -> None:
    result = invoke("config", "list")

    assert result.exit_code == 0
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(result.stdout)
    assert parser.sections()[:3] == ["core", "database", "scheduler"]
    assert parser.get("core", "parallelism") == "32"
    assert parser.get("core", "dags_folder") == str(home / "dags")
    assert parser.get("core", "load_examples") == "True"


def test_list_hides_secrets_that_are_set(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND__DATABASE__SQL_ALCHEMY_CONN", SECRET_URL)

    hidden = invoke("config", "list").stdout
    shown = invoke("config", "list", "--include-secrets").stdout

    assert "sql_alchemy_conn = < hidden >" in hidden
    assert "fernet_key = < hidden >" in hidden
    assert "s3cret" not in hidden
    assert f"sql_alchemy_conn = {SECRET_URL}" in shown
    # A secret left at its public default is not worth hiding.
    assert "broker_url = redis://127.0.0.1:6379/0" in hidden


def test_list_one_section(invoke: Invoke) -> None:
    result = invoke("config", "list", "--section", "logging")

    assert result.stdout.splitlines()[0] == "[logging]"
    assert "[core]" not in result.stdout
    assert "logging_level = INFO" in result.stdout


def test_list_unknown_section(invoke: Invoke) -> None:
    result = invoke("config", "list", "--section", "nope")

    assert (result.exit_code, result.stderr) == (
        1,
        "Error: The section [nope] is not found in config.\n",
    )


def test_list_with_sources_descriptions_and_variables(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND__CORE__PARALLELISM", "7")

    result = invoke("config", "list", "--section", "core", "-s", "-d", "-V")

    assert (
        "# Most task instances running at once across all DAGs (count).\n"
        "# Source: env var\n"
        "# Variable: TRADEWIND__CORE__PARALLELISM\n"
        "parallelism = 7\n"
    ) in result.stdout
    assert "# Source: default\n" in result.stdout


def test_list_comment_out_everything(invoke: Invoke) -> None:
    lines = invoke("config", "list", "-c", "--section", "core").stdout.splitlines()

    assert lines[0] == "[core]"
    assert all(line.startswith("# ") for line in lines[1:])


def test_list_defaults_is_a_starting_config_and_reads_no_file(
    invoke: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (home / "broken.cfg").write_text("garbage\n", encoding="utf-8")
    monkeypatch.setenv("TRADEWIND_CONFIG", str(home / "broken.cfg"))

    result = invoke("config", "list", "--defaults", "-s")

    assert result.exit_code == 0, result.output
    assert "# dags_folder = {TRADEWIND_HOME}/dags\n" in result.stdout
    assert "# Variable: TRADEWIND__CORE__DAGS_FOLDER\n" in result.stdout
    assert "# Folder scanned for DAG files.\n" in result.stdout
    assert "# Source:" not in result.stdout
    assert not (home / CONFIG_FILE_NAME).exists()


def _console_script() -> str:
    beside_python = Path(sys.executable).with_name("tradewind")
    found = str(beside_python) if beside_python.exists() else shutil.which("tradewind")
    if found is None:
        pytest.fail("the tradewind console script is not installed: pip install -e .")
    return found


def test_console_script_reads_env_and_reports_bad_file_without_traceback(home: Path) -> None:
    script = _console_script()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIND")}
    env |= {"TRADEWIND_HOME": str(home), "TRADEWIND__CORE__PARALLELISM": "48"}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [script, "config", "get-value", "core", "parallelism"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    good = run()
    assert (good.returncode, good.stdout, good.stderr) == (0, "48\n", "")

    (home / CONFIG_FILE_NAME).write_text("[core\nparallelism = 8\n", encoding="utf-8")
    bad = run()
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert bad.stderr.startswith("Error: ")
    assert bad.stderr.count("\n") == 1
    assert "Traceback" not in bad.stdout + bad.stderr
