"""``tradewind dags list | list-import-errors | show | test`` end to end, on every backend.

Each test writes DAG files into the ``settings`` fixture's DAGs folder (under ``tmp_path``)
and runs the real root group in-process with those settings, as a user would run the
command. Nothing here mocks the DAG processor, the importer or the in-process runner.
"""

from __future__ import annotations

import json
import logging
import os
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session, sessionmaker

from tradewind.cli.main import cli
from tradewind.config import Settings
from tradewind.execution.task_logging import task_log_path
from tradewind.storage.engine import transaction
from tradewind.storage.repositories.connections import create_connection
from tradewind.storage.repositories.variables import set_variable

pytestmark = pytest.mark.db

#: @task tasks passing values by XCom, and a templated Bash task reading a Param.
PIPELINE = """
    from datetime import datetime

    from tradewind import DAG, Param, task
    from tradewind.operators import BashOperator

    with DAG(
        "pipeline",
        schedule=None,
        start_date=datetime(2024, 1, 1),
        params={"who": Param("world", type="string")},
        tags=["team-a"],
    ):

        @task
        def produce() -> int:
            return 21

        @task
        def double(value: int) -> int:
            return value * 2

        @task
        def describe(value: int) -> str:
            return f"got {value}"

        greet = BashOperator(
            task_id="greet", bash_command="echo hello {{ params.who }} on {{ ds }}"
        )
        describe(double(produce())) >> greet
"""

FAILING = """
    from datetime import datetime

    from tradewind import DAG
    from tradewind.operators import EmptyOperator, PythonOperator

    def _boom() -> None:
        raise ValueError("boom on purpose")

    with DAG("failing", schedule=None, start_date=datetime(2024, 1, 1)):
        start = EmptyOperator(task_id="start")
        boom = PythonOperator(task_id="boom", python_callable=_boom)
        after = EmptyOperator(task_id="after")
        start >> boom >> after
"""

FLAKY = """
    from datetime import datetime, timedelta

    from tradewind import DAG
    from tradewind.operators import PythonOperator

    def _fails_first(ti) -> str:
        if ti.try_number == 1:
            raise RuntimeError("first try fails")
        return f"ok on try {ti.try_number}"

    with DAG("flaky", schedule=None, start_date=datetime(2024, 1, 1)):
        PythonOperator(
            task_id="flaky_task",
            python_callable=_fails_first,
            retries=1,
            retry_delay=timedelta(seconds=0),
        )
"""

USES_SECRETS = """
    from datetime import datetime

    from tradewind import DAG
    from tradewind.operators import BashOperator

    with DAG("uses_secrets", schedule=None, start_date=datetime(2024, 1, 1)):
        BashOperator(
            task_id="call_api",
            bash_command=(
                "echo {{ var.value.region }} "
                "{{ conn.my_api.host }}:{{ conn.my_api.port }} {{ var.value.api_password }}"
            ),
        )
"""

BROKEN = """
    from tradewind import DAG

    raise RuntimeError("broken on purpose")
"""

CYCLIC = """
    from datetime import datetime

    from tradewind import DAG
    from tradewind.operators import EmptyOperator

    with DAG("cyclic", schedule=None, start_date=datetime(2024, 1, 1)):
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        a >> b >> a
"""

DUPLICATE = """
    from datetime import datetime

    from tradewind import DAG
    from tradewind.operators import EmptyOperator

    with DAG("duplicate", schedule=None, start_date=datetime(2024, 1, 1)):
        EmptyOperator(task_id="same")
        EmptyOperator(task_id="same")
"""

SECRET = "hunter2-very-secret"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No override or debug switch from the developer's shell reaches the commands."""
    for name in list(os.environ):
        if name.startswith("TRADEWIND__") or name == "TRADEWIND_DEBUG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path))


@pytest.fixture
def dags_folder(settings: Settings) -> Path:
    folder = Path(settings.core.dags_folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_dag(folder: Path, name: str, source: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def invoke(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=settings)


def assert_one_error_line(result: Result, expected_start: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"Error: {expected_start}"), result.stderr


#: A task report line, ``[state] task_id  try N ...``; log lines start ``[<timestamp>]``.
REPORT = re.compile(r"^\[[a-z_]+\] (\S+)")


def report_lines(result: Result) -> list[str]:
    """The one-line task reports printed by ``dags test``, without the task logs."""
    return [line for line in result.stdout.splitlines() if REPORT.match(line)]


def report_for(result: Result, task_id: str) -> list[str]:
    """The report lines of one task, in order (one per try or decision)."""
    return [line for line in report_lines(result) if REPORT.findall(line) == [task_id]]


# dags list / list-import-errors


def test_list_finds_a_dag_file_dropped_in_the_folder(settings: Settings, dags_folder: Path) -> None:
    path = write_dag(dags_folder, "pipeline", PIPELINE)

    result = invoke(settings, "dags", "list", "-o", "json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows == [
        {
            "dag_id": "pipeline",
            "fileloc": str(path),
            "owners": "airflow",
            "is_paused": True,
            "schedule": "None",
            "tags": "team-a",
        }
    ]


def test_list_shows_only_the_columns_asked_for(settings: Settings, dags_folder: Path) -> None:
    write_dag(dags_folder, "pipeline", PIPELINE)

    result = invoke(settings, "dags", "list", "-o", "plain", "--columns", "dag_id,tags")

    assert result.exit_code == 0, result.output
    assert result.stdout.split("\n")[:2] == ["dag_id    tags", "pipeline  team-a"]


def test_list_with_examples_loaded_shows_them_beside_the_folder(
    settings: Settings, dags_folder: Path
) -> None:
    write_dag(dags_folder, "pipeline", PIPELINE)

    result = invoke(settings.replace("core", load_examples=True), "dags", "list", "-o", "json")

    assert result.exit_code == 0, result.output
    dag_ids = {row["dag_id"] for row in json.loads(result.stdout)}
    assert {"pipeline", "example_taskflow_etl", "random_failures"} <= dag_ids


def test_import_errors_are_listed_without_hiding_the_good_dag(
    settings: Settings, dags_folder: Path
) -> None:
    good = write_dag(dags_folder, "pipeline", PIPELINE)
    broken = write_dag(dags_folder, "broken", BROKEN)
    cyclic = write_dag(dags_folder, "cyclic", CYCLIC)
    duplicate = write_dag(dags_folder, "duplicate", DUPLICATE)

    errors_result = invoke(settings, "dags", "list-import-errors", "-o", "json")
    list_result = invoke(settings, "dags", "list", "-o", "json")

    assert errors_result.exit_code == 0, errors_result.output
    errors = {row["filepath"]: row["error"] for row in json.loads(errors_result.stdout)}
    assert set(errors) == {str(broken), str(cyclic), str(duplicate)}
    assert errors[str(broken)].startswith("Traceback (most recent call last):")
    assert "RuntimeError: broken on purpose" in errors[str(broken)]
    assert "Cycle detected in DAG 'cyclic': a >> b >> a" in errors[str(cyclic)]
    assert "Task id 'same' has already been added to the DAG 'duplicate'" in errors[str(duplicate)]
    assert list_result.exit_code == 0, list_result.output
    assert [(row["dag_id"], row["fileloc"]) for row in json.loads(list_result.stdout)] == [
        ("pipeline", str(good))
    ]


def test_import_errors_is_an_empty_json_list_when_all_files_import(
    settings: Settings, dags_folder: Path
) -> None:
    write_dag(dags_folder, "pipeline", PIPELINE)

    result = invoke(settings, "dags", "list-import-errors", "-o", "json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


# dags show


def test_show_prints_each_task_under_its_upstream(settings: Settings, dags_folder: Path) -> None:
    write_dag(dags_folder, "failing", FAILING)

    result = invoke(settings, "dags", "show", "failing")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "failing  schedule: None",
        "└── start (EmptyOperator)",
        "    └── boom (PythonOperator)",
        "        └── after (EmptyOperator)",
    ]


def test_show_dot_prints_graphviz_source(settings: Settings, dags_folder: Path) -> None:
    write_dag(dags_folder, "failing", FAILING)

    result = invoke(settings, "dags", "show", "failing", "--dot")

    assert result.exit_code == 0, result.output
    dot = result.stdout
    assert dot.startswith('digraph "failing" {')
    assert dot.rstrip().endswith("}")
    assert '"start" -> "boom";' in dot
    assert '"boom" -> "after";' in dot
    assert dot.count("->") == 2


# dags test


def test_successful_run_reports_every_task_and_passes_xcoms(
    settings: Settings, dags_folder: Path
) -> None:
    write_dag(dags_folder, "pipeline", PIPELINE)

    result = invoke(settings, "dags", "test", "pipeline")

    assert result.exit_code == 0, result.output
    assert report_for(result, "produce")[0].endswith("returned 21")
    assert report_for(result, "double")[0].endswith("returned 42")
    assert report_for(result, "describe")[0].endswith("returned 'got 42'")
    for task_id in ("produce", "double", "describe", "greet"):
        assert [line.split("]")[0] for line in report_for(result, task_id)] == ["[success"]
    assert "hello world on" in result.stdout
    assert result.stdout.rstrip().endswith("DAG run success")


def test_failing_task_fails_the_run_and_its_downstream(
    settings: Settings, dags_folder: Path
) -> None:
    write_dag(dags_folder, "failing", FAILING)

    result = invoke(settings, "dags", "test", "failing")

    assert result.exit_code == 1, result.output
    assert report_for(result, "start")[0].startswith("[success] start")
    assert report_for(result, "boom")[0].startswith("[failed] boom  try 1")
    assert "ValueError: boom on purpose" in report_for(result, "boom")[0]
    assert report_for(result, "after") == ["[upstream_failed] after"]
    assert result.stdout.rstrip().endswith("DAG run failed")
    assert result.stderr == ""


def test_task_failing_its_first_try_succeeds_on_its_retry(
    settings: Settings, dags_folder: Path
) -> None:
    write_dag(dags_folder, "flaky", FLAKY)

    result = invoke(settings, "dags", "test", "flaky")

    assert result.exit_code == 0, result.output
    first, second = report_for(result, "flaky_task")
    assert first.startswith("[up_for_retry] flaky_task  try 1")
    assert "RuntimeError: first try fails" in first
    assert second.startswith("[success] flaky_task  try 2")
    assert second.endswith("returned 'ok on try 2'")


def test_conf_overrides_a_param_in_a_templated_command(
    settings: Settings, dags_folder: Path
) -> None:
    write_dag(dags_folder, "pipeline", PIPELINE)

    result = invoke(settings, "dags", "test", "pipeline", "--conf", '{"who": "bob"}')

    assert result.exit_code == 0, result.output
    assert "Running command: ['/usr/bin/bash', '-c', 'echo hello bob on" in result.stdout
    assert report_for(result, "greet")[0].split("returned ")[1].startswith("'hello bob on ")


@pytest.mark.parametrize(
    ("conf", "error"),
    [
        ("{not json", "--conf is not valid JSON: Expecting property name"),
        ('["a list"]', "--conf must be a JSON object, got list"),
        ('{"who": 3}', "Invalid value for param 'who': 3 is not of type 'string'"),
    ],
)
def test_bad_conf_is_one_error_line_and_runs_nothing(
    settings: Settings, dags_folder: Path, conf: str, error: str
) -> None:
    write_dag(dags_folder, "pipeline", PIPELINE)

    result = invoke(settings, "dags", "test", "pipeline", "-c", conf)

    assert_one_error_line(result, error)
    assert report_lines(result) == []


def test_logical_date_argument_is_the_runs_ds(settings: Settings, dags_folder: Path) -> None:
    write_dag(dags_folder, "pipeline", PIPELINE)

    result = invoke(settings, "dags", "test", "pipeline", "2024-03-05")

    assert result.exit_code == 0, result.output
    assert report_for(result, "greet")[0].endswith("returned 'hello world on 2024-03-05'")
    assert "DAG pipeline, run manual__2024-03-05T00:00:00+00:00" in result.stdout


def test_invalid_logical_date_is_one_error_line(settings: Settings, dags_folder: Path) -> None:
    write_dag(dags_folder, "pipeline", PIPELINE)

    result = invoke(settings, "dags", "test", "pipeline", "next tuesday")

    assert_one_error_line(result, "Invalid logical date 'next tuesday': use ISO 8601")


def test_unknown_dag_is_one_clear_error_line(settings: Settings, dags_folder: Path) -> None:
    write_dag(dags_folder, "pipeline", PIPELINE)

    result = invoke(settings, "dags", "test", "no_such_dag")

    assert_one_error_line(result, f"Dag id no_such_dag not found in {dags_folder}")


def test_unknown_dag_error_sums_up_files_that_failed_to_import(
    settings: Settings, dags_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = write_dag(dags_folder, "broken", BROKEN)

    result = invoke(settings, "dags", "show", "no_such_dag")

    assert_one_error_line(result, "Dag id no_such_dag not found in")
    assert f"{broken}: RuntimeError: broken on purpose" in result.stderr
    assert "tradewind dags list-import-errors" in result.stderr
    # The summary replaces the file's traceback, which is not logged as well.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_another_files_import_error_does_not_disturb_a_found_dag(
    settings: Settings, dags_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_dag(dags_folder, "broken", BROKEN)
    write_dag(dags_folder, "failing", FAILING)

    quiet = invoke(settings, "dags", "show", "failing", "--dot")
    errors_logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    verbose = invoke(settings, "--verbose", "dags", "show", "failing", "--dot")

    assert quiet.exit_code == verbose.exit_code == 0, quiet.output + verbose.output
    assert quiet.stdout == verbose.stdout
    assert errors_logged == []
    assert any("broken on purpose" in r.getMessage() for r in caplog.records)


def test_variable_and_connection_from_the_database_are_templated_and_secrets_masked(
    settings: Settings, dags_folder: Path, session_factory: sessionmaker[Session]
) -> None:
    write_dag(dags_folder, "uses_secrets", USES_SECRETS)
    with transaction(session_factory) as session:
        set_variable(session, "region", "eu-west-1")
        set_variable(session, "api_password", SECRET)
        create_connection(
            session, "my_api", "http", host="api.example.com", port=8443, password="conn-pass"
        )

    result = invoke(settings, "dags", "test", "uses_secrets", "2024-03-05")

    assert result.exit_code == 0, result.output
    assert "eu-west-1 api.example.com:8443 ***" in result.stdout
    assert SECRET not in result.output
    log = task_log_path(
        settings.logging.base_log_folder,
        dag_id="uses_secrets",
        run_id="manual__2024-03-05T00:00:00+00:00",
        task_id="call_api",
        try_number=1,
    ).read_text(encoding="utf-8")
    assert "eu-west-1 api.example.com:8443 ***" in log
    assert SECRET not in log
