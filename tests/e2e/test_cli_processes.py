"""The installed ``tradewind`` console script, run as a user runs it: a new process each time.

Every command gets a fresh ``TRADEWIND_HOME`` under ``tmp_path`` and an environment with
no ``TRADEWIND*`` variable from the developer's shell, so the defaults apply: a SQLite
database created on first use and the bundled example DAGs loaded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

#: Seconds one command may take; the slowest (dags list) parses every example DAG.
TIMEOUT = 120


def tradewind_script() -> str:
    """The console script installed beside this interpreter (or else on PATH)."""
    beside = Path(sys.executable).parent / "tradewind"
    found = str(beside) if beside.exists() else shutil.which("tradewind")
    assert found, "the tradewind console script is not installed"
    return found


def clean_environment(home: Path, **overrides: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("TRADEWIND")}
    return {**env, "TRADEWIND_HOME": str(home), **overrides}


def tradewind(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tradewind_script(), *args],
        env=env if env is not None else clean_environment(home),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


#: A task report line, ``[state] task_id  try N ...``; log lines start ``[<timestamp>]``.
REPORT = re.compile(r"^\[(?P<state>[a-z_]+)\] (?P<task_id>\S+)", re.MULTILINE)


def task_states(stdout: str) -> dict[str, list[str]]:
    """Each task's states, in the order they were reported."""
    states: dict[str, list[str]] = {}
    for match in REPORT.finditer(stdout):
        states.setdefault(match["task_id"], []).append(match["state"])
    return states


def test_dags_test_runs_the_etl_example_on_a_fresh_home(tmp_path: Path) -> None:
    home = tmp_path / "home"

    done = tradewind(home, "dags", "test", "example_taskflow_etl")

    assert done.returncode == 0, done.stdout + done.stderr
    assert task_states(done.stdout) == {
        "extract": ["success"],
        "transform": ["success"],
        "load": ["success"],
    }
    assert "returned '3 orders, total 1236.70'" in done.stdout
    assert done.stdout.rstrip().endswith("DAG run success")
    assert done.stderr.startswith("Initialized the metadata database at sqlite:///")
    assert (home / "tradewind.cfg").is_file()
    assert (home / "tradewind.db").is_file()


def test_dags_list_as_json_lists_the_examples(tmp_path: Path) -> None:
    done = tradewind(tmp_path / "home", "dags", "list", "-o", "json")

    assert done.returncode == 0, done.stdout + done.stderr
    rows = {row["dag_id"]: row for row in json.loads(done.stdout)}
    assert rows["random_failures"]["fileloc"].endswith("example_dags/random_failures.py")
    assert rows["random_failures"]["tags"] == "example"
    assert "example_taskflow_etl" in rows


@pytest.fixture
def malformed_config_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "tradewind.cfg").write_text("[core\nexecutor = LocalExecutor\n", encoding="utf-8")
    return home


BAD_INPUTS = {
    "malformed_config": ({}, "is not a valid config file: File contains no section headers"),
    "unknown_executor": (
        {"TRADEWIND__CORE__EXECUTOR": "NoSuchExecutor"},
        "[core] executor: unknown executor 'NoSuchExecutor'; use LocalExecutor, "
        "CeleryExecutor, SequentialExecutor or a module.Class path",
    ),
    "unreachable_database": (
        {"TRADEWIND__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg://postgres@127.0.0.1:1/test"},
        "Cannot use the metadata database at postgresql+psycopg://postgres@127.0.0.1:1/test",
    ),
    "wrong_scheme": (
        {"TRADEWIND__DATABASE__SQL_ALCHEMY_CONN": "mysql://x"},
        "Unsupported database URL scheme 'mysql' in [database] sql_alchemy_conn",
    ),
}


@pytest.mark.parametrize("command", [("dags", "list"), ("db", "check")], ids=" ".join)
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_error_line_and_exit_1(
    tmp_path: Path, malformed_config_home: Path, case: str, command: tuple[str, ...]
) -> None:
    overrides, expected = BAD_INPUTS[case]
    home = malformed_config_home if case == "malformed_config" else tmp_path / "fresh"

    done = tradewind(home, *command, env=clean_environment(home, **overrides))

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    errors = done.stderr.splitlines()
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith("Error: ")
    assert expected in errors[0]


def test_unknown_dag_beside_a_broken_file_is_one_error_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "dags").mkdir(parents=True)
    (home / "dags" / "broken.py").write_text(
        "from tradewind import DAG\nraise RuntimeError('broken on purpose')\n", encoding="utf-8"
    )
    tradewind(home, "db", "migrate")

    done = tradewind(home, "dags", "test", "no_such_dag")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        f"Error: Dag id no_such_dag not found in {home / 'dags'} (1 file(s) failed to import, "
        f"e.g. {home / 'dags' / 'broken.py'}: RuntimeError: broken on purpose; "
        "see tradewind dags list-import-errors)"
    ]
