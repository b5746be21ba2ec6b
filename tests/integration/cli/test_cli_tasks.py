"""``tradewind tasks list | test`` end to end, on every backend.

As in ``test_cli_dags.py``: DAG files are written into the ``settings`` fixture's DAGs
folder and the real root group runs in-process with those settings.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tradewind.cli.main import cli
from tradewind.config import Settings

pytestmark = pytest.mark.db

#: A diamond whose task ids sort differently from its dependency order.
DIAMOND = """
    from datetime import datetime

    from tradewind import DAG
    from tradewind.operators import BashOperator, EmptyOperator

    with DAG("diamond", schedule="@daily", start_date=datetime(2024, 1, 1)):
        z_first = EmptyOperator(task_id="z_first")
        m_left = BashOperator(task_id="m_left", bash_command="echo left {{ ds }}")
        b_right = BashOperator(
            task_id="b_right", bash_command="echo {{ params.word }}", params={"word": "right"}
        )
        a_last = EmptyOperator(task_id="a_last", trigger_rule="all_done")
        z_first >> [m_left, b_right] >> a_last
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No override or debug switch from the developer's shell reaches the commands."""
    for name in list(os.environ):
        if name.startswith("TRADEWIND__") or name == "TRADEWIND_DEBUG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path))


@pytest.fixture
def diamond(settings: Settings) -> Path:
    folder = Path(settings.core.dags_folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "diamond.py"
    path.write_text(textwrap.dedent(DIAMOND), encoding="utf-8")
    return path


def invoke(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=settings)


def assert_one_error_line(result: Result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr == f"Error: {expected}\n"


@pytest.mark.usefixtures("diamond")
def test_list_is_in_topological_order_as_json(settings: Settings) -> None:
    result = invoke(settings, "tasks", "list", "diamond", "-o", "json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    order = [row["task_id"] for row in rows]
    assert order[0] == "z_first" and order[-1] == "a_last"
    assert sorted(order[1:3]) == ["b_right", "m_left"]
    by_id = {row["task_id"]: row for row in rows}
    assert by_id["a_last"] == {
        "task_id": "a_last",
        "operator": "EmptyOperator",
        "trigger_rule": "all_done",
        "upstream": "b_right, m_left",
    }
    assert by_id["m_left"]["operator"] == "BashOperator"
    assert by_id["z_first"]["upstream"] == ""


@pytest.mark.usefixtures("diamond")
def test_list_tree_nests_downstream_tasks_and_shows_a_join_once(settings: Settings) -> None:
    result = invoke(settings, "tasks", "list", "diamond", "-t")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "diamond  schedule: @daily",
        "└── z_first (EmptyOperator)",
        "    ├── b_right (BashOperator)",
        "    │   └── a_last (EmptyOperator)",
        "    └── m_left (BashOperator)",
        "        └── a_last ↑ shown above",
    ]


def test_list_of_a_bundled_example_with_examples_loaded(settings: Settings) -> None:
    with_examples = settings.replace("core", load_examples=True)

    result = invoke(with_examples, "tasks", "list", "example_taskflow_etl", "-o", "json")

    assert result.exit_code == 0, result.output
    assert [row["task_id"] for row in json.loads(result.stdout)] == [
        "extract",
        "transform",
        "load",
    ]


def test_examples_are_not_found_when_not_loaded(settings: Settings) -> None:
    result = invoke(settings, "tasks", "list", "example_taskflow_etl")

    assert_one_error_line(
        result, f"Dag id example_taskflow_etl not found in {settings.core.dags_folder}"
    )


@pytest.mark.usefixtures("diamond")
def test_test_runs_one_task_ignoring_its_upstream(settings: Settings) -> None:
    result = invoke(settings, "tasks", "test", "diamond", "m_left", "2024-02-29")

    assert result.exit_code == 0, result.output
    reports = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert reports[-1].startswith("[success] m_left  try 1")
    assert reports[-1].endswith("returned 'left 2024-02-29'")
    assert "z_first" not in result.stdout


@pytest.mark.usefixtures("diamond")
def test_test_task_params_override_params(settings: Settings) -> None:
    result = invoke(settings, "tasks", "test", "diamond", "b_right", "-t", '{"word": "custom"}')

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].endswith("returned 'custom'")


@pytest.mark.usefixtures("diamond")
def test_test_unknown_task_is_one_clear_error_line(settings: Settings) -> None:
    result = invoke(settings, "tasks", "test", "diamond", "no_such_task")

    assert_one_error_line(result, "Task 'no_such_task' not found in DAG 'diamond'")


@pytest.mark.usefixtures("diamond")
def test_test_invalid_task_params_is_one_error_line(settings: Settings) -> None:
    result = invoke(settings, "tasks", "test", "diamond", "m_left", "-t", "[1]")

    assert_one_error_line(result, "--task-params must be a JSON object, got list")
