"""Every bundled example DAG file imports on its own and defines a valid DAG."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import tradewind.example_dags
from tradewind import DAG

EXAMPLES_DIR = Path(tradewind.example_dags.__file__).parent
EXAMPLE_FILES = sorted(p for p in EXAMPLES_DIR.glob("*.py") if p.name != "__init__.py")


def _load(path: Path) -> list[DAG]:
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [value for value in vars(module).values() if isinstance(value, DAG)]


def test_there_are_examples() -> None:
    assert {p.stem for p in EXAMPLE_FILES} >= {
        "random_failures",
        "example_taskflow_etl",
        "example_branching",
        "example_task_group",
        "example_bash_templated",
    }


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_example_defines_a_valid_documented_dag(path: Path) -> None:
    text = path.read_text()
    assert "dag" in text.lower() and "tradewind" in text  # safe-mode discovery finds it
    imports = [
        line.split()[1] for line in text.splitlines() if line.startswith(("import ", "from "))
    ]
    assert all(
        name.split(".")[0] in {"__future__", "tradewind", "datetime", "json", "random", "typing"}
        for name in imports
    ), imports
    dags = _load(path)
    assert len(dags) == 1
    dag = dags[0]
    dag.validate()
    assert dag.start_date is not None
    assert dag.doc_md
    assert dag.fileloc == str(path)


def test_random_failures_shape() -> None:
    dag = _load(EXAMPLES_DIR / "random_failures.py")[0]
    assert dag.dag_id == "random_failures"
    assert dag.timetable.summary in (None, "None")
    assert "random-task" in dag.task_ids
