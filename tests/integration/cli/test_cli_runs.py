"""``dags trigger | pause | unpause | state | list-runs`` and ``tasks clear | state |
states-for-dag-run`` end to end, on every backend.

A DAG file is written into the settings' DAGs folder and ``dags list`` stores it, as a
user's first command would; task instances are then created the way the scheduler
creates them when a run starts, and put in the states each test needs.
"""

from __future__ import annotations

import json
import os
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session, sessionmaker

from tradewind.cli import run_display
from tradewind.cli.main import cli
from tradewind.config import Settings
from tradewind.services.dag_runs import set_dag_run_state
from tradewind.services.dags import load_serialized_dag
from tradewind.storage.engine import transaction
from tradewind.storage.repositories.dag_runs import require_dag_run
from tradewind.storage.repositories.dags import require_dag
from tradewind.storage.repositories.task_instances import create_task_instances, tis_of_run
from tradewind.storage.tables import LogRow

pytestmark = pytest.mark.db

PIPELINE = """
    from datetime import datetime

    from tradewind import DAG, Param
    from tradewind.operators import EmptyOperator

    with DAG(
        "pipeline",
        schedule=None,
        start_date=datetime(2024, 1, 1),
        params={"size": Param(1, type="integer")},
    ):
        extract = EmptyOperator(task_id="extract")
        transform = EmptyOperator(task_id="transform", retries=1)
        load = EmptyOperator(task_id="load")
        extract >> transform >> load
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("TRADEWIND__") or name == "TRADEWIND_DEBUG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRADEWIND_HOME", str(tmp_path))


@pytest.fixture
def pipeline(settings: Settings) -> None:
    folder = Path(settings.core.dags_folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pipeline.py").write_text(textwrap.dedent(PIPELINE), encoding="utf-8")
    result = invoke(settings, "dags", "list", "-o", "json")
    assert result.exit_code == 0, result.output


def invoke(settings: Settings, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), obj=settings, input=input)


def trigger(settings: Settings, *args: str) -> dict[str, object]:
    result = invoke(settings, "dags", "trigger", "pipeline", "-o", "json", *args)
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    return dict(row)


def start_run(
    session_factory: sessionmaker[Session], run_id: str, states: dict[str, str | None]
) -> None:
    """What the scheduler does when it starts a run, then the given task states."""
    with transaction(session_factory) as session:
        run = require_dag_run(session, "pipeline", run_id)
        run.state = "running"
        create_task_instances(session, run, load_serialized_dag(session, "pipeline"))
        for ti in tis_of_run(session, "pipeline", run_id):
            ti.state = states.get(ti.task_id)
            ti.try_number = 1 if ti.state else 0


@pytest.mark.usefixtures("pipeline")
def test_trigger_defaults_and_options(settings: Settings, session: Session) -> None:
    row = trigger(settings)
    assert row["state"] == "queued" and str(row["run_id"]).startswith("manual__")
    assert datetime.fromisoformat(str(row["logical_date"])).microsecond == 0

    row = trigger(settings, "-r", "nightly", "-e", "2024-02-01T10:00:00Z", "-c", '{"size": 3}')
    assert (row["run_id"], row["logical_date"], row["conf"]) == (
        "nightly",
        "2024-02-01T10:00:00+00:00",
        {"size": 3},
    )
    row = trigger(settings, "--run-id", "later", "--logical-date", "2024-03-01")
    assert row["logical_date"] == "2024-03-01T00:00:00+00:00"
    events = list(session.scalars(sa.select(LogRow.event).where(LogRow.event == "trigger")))
    assert len(events) == 3


@pytest.mark.usefixtures("pipeline")
def test_trigger_errors_are_one_line(settings: Settings) -> None:
    trigger(settings, "-r", "r1")
    for args, message in (
        (["-r", "r1"], "Error: DAGRun with DAG ID: 'pipeline' and DAGRun ID: 'r1' already exists"),
        (["-c", "[1]"], "Error: --conf must be a JSON object, got list"),
        (["-c", '{"size": "big"}'], "Error: "),
        (["-e", "yesterday"], "Error: Invalid logical date 'yesterday'"),
    ):
        result = invoke(settings, "dags", "trigger", "pipeline", *args)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    result = invoke(settings, "dags", "trigger", "missing")
    assert result.exit_code == 1 and "DAG with dag_id: 'missing' not found" in result.stderr


@pytest.mark.usefixtures("pipeline")
def test_trigger_wait_follows_the_run_to_its_end(
    settings: Settings, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_display, "WAIT_POLL_INTERVAL", 0.05)

    def finish(state: str) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with transaction(session_factory) as session:
                count = session.execute(sa.text("SELECT count(*) FROM dag_run")).scalar()
                if count:
                    run_id = session.execute(sa.text("SELECT run_id FROM dag_run")).scalar()
                    set_dag_run_state(
                        session, "pipeline", str(run_id), state, now=datetime.now(UTC)
                    )
                    return
            time.sleep(0.05)

    finisher = threading.Thread(target=finish, args=("failed",))
    finisher.start()
    result = invoke(settings, "dags", "trigger", "pipeline", "--wait")
    finisher.join()
    assert result.exit_code == 1, result.output
    assert "finished: failed" in result.stderr


@pytest.mark.usefixtures("pipeline")
def test_pause_unpause(settings: Settings, session: Session) -> None:
    result = invoke(settings, "dags", "pause", "pipeline")
    assert (result.exit_code, result.stdout) == (0, "Dag: pipeline, paused: True\n")
    assert require_dag(session, "pipeline").is_paused is True
    result = invoke(settings, "dags", "unpause", "pipeline")
    assert (result.exit_code, result.stdout) == (0, "Dag: pipeline, paused: False\n")
    session.rollback()  # a new snapshot: the command committed in another connection
    assert require_dag(session, "pipeline").is_paused is False
    result = invoke(settings, "dags", "pause", "missing")
    assert result.exit_code == 1 and "not found" in result.stderr


@pytest.mark.usefixtures("pipeline")
def test_dags_state_by_run_id_or_logical_date(settings: Settings) -> None:
    trigger(settings, "-r", "r1", "-e", "2024-02-01", "-c", '{"size": 2}')
    result = invoke(settings, "dags", "state", "pipeline", "r1")
    assert result.stdout == 'queued, {"size": 2}\n'
    result = invoke(settings, "dags", "state", "pipeline", "2024-02-01T00:00:00+00:00")
    assert result.stdout == 'queued, {"size": 2}\n'
    assert invoke(settings, "dags", "state", "pipeline", "nope").stdout == "None\n"


@pytest.mark.usefixtures("pipeline")
def test_list_runs(settings: Settings, session_factory: sessionmaker[Session]) -> None:
    for day in (1, 2, 3):
        trigger(settings, "-r", f"r{day}", "-e", f"2024-02-0{day}")
    start_run(session_factory, "r2", {})
    result = invoke(settings, "dags", "list-runs", "-d", "pipeline", "-o", "json")
    rows = json.loads(result.stdout)
    assert [row["run_id"] for row in rows] == ["r3", "r2", "r1"]
    assert list(rows[0]) == list(run_display.RUN_COLUMNS)
    result = invoke(settings, "dags", "list-runs", "pipeline", "--state", "running", "-o", "json")
    assert [row["run_id"] for row in json.loads(result.stdout)] == ["r2"]
    result = invoke(
        settings, "dags", "list-runs", "-d", "pipeline", "-s", "2024-02-02", "-o", "plain"
    )
    assert result.stdout.splitlines()[0].split() == list(run_display.RUN_COLUMNS)
    assert len(result.stdout.splitlines()) == 3
    assert invoke(settings, "dags", "list-runs").exit_code == 2


@pytest.mark.usefixtures("pipeline")
def test_tasks_clear_asks_then_clears(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    trigger(settings, "-r", "r1", "-e", "2024-02-01")
    start_run(session_factory, "r1", {"extract": "success", "transform": "failed"})

    result = invoke(settings, "tasks", "clear", "pipeline", "-f", input="n\n")
    assert result.exit_code == 0, result.output
    assert "<TaskInstance: pipeline.transform r1 [failed]>" in result.stdout
    assert "Cancelled, nothing was cleared." in result.stdout
    assert require_dag_run(session, "pipeline", "r1").state == "running"

    result = invoke(settings, "tasks", "clear", "pipeline", "-t", "^trans", "-d", "-y")
    assert result.exit_code == 0, result.output
    assert result.stdout == "2 task instance(s) cleared\n"
    session.rollback()
    states = {ti.task_id: ti.state for ti in tis_of_run(session, "pipeline", "r1")}
    assert states == {"extract": "success", "transform": None, "load": None}

    result = invoke(settings, "tasks", "clear", "pipeline", "-r", "-y")
    assert result.stdout == "No task instances to clear\n"
    result = invoke(settings, "tasks", "clear", "pipeline", "-t", "(", "-y")
    assert result.exit_code == 1 and "Invalid --task-regex" in result.stderr


@pytest.mark.usefixtures("pipeline")
def test_tasks_clear_window_and_upstream(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    for day in (1, 2):
        trigger(settings, "-r", f"r{day}", "-e", f"2024-02-0{day}")
        start_run(session_factory, f"r{day}", {"extract": "success", "transform": "success"})
    result = invoke(
        settings, "tasks", "clear", "pipeline", "-t", "transform", "-u", "-s", "2024-02-02", "-y"
    )
    assert result.stdout == "2 task instance(s) cleared\n"
    session.rollback()
    states = {ti.task_id: ti.state for ti in tis_of_run(session, "pipeline", "r2")}
    assert states == {"extract": None, "transform": None, "load": None}
    session.rollback()  # a new snapshot: the command committed in another connection
    assert tis_of_run(session, "pipeline", "r1")[0].state == "success"


@pytest.mark.usefixtures("pipeline")
def test_tasks_state_and_states_for_dag_run(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    trigger(settings, "-r", "r1", "-e", "2024-02-01")
    start_run(session_factory, "r1", {"extract": "success"})

    assert invoke(settings, "tasks", "state", "pipeline", "extract", "r1").stdout == "success\n"
    by_date = invoke(settings, "tasks", "state", "pipeline", "load", "2024-02-01")
    assert by_date.stdout == "None\n"
    result = invoke(settings, "tasks", "state", "pipeline", "ghost", "r1")
    assert result.exit_code == 1 and "'ghost'" in result.stderr
    result = invoke(settings, "tasks", "state", "pipeline", "extract", "r9")
    assert result.stderr == (
        "Error: DagRun for pipeline with run_id or logical date of 'r9' not found\n"
    )

    result = invoke(settings, "tasks", "states-for-dag-run", "pipeline", "r1", "-o", "json")
    rows = json.loads(result.stdout)
    assert [(row["task_id"], row["state"]) for row in rows] == [
        ("extract", "success"),
        ("load", None),
        ("transform", None),
    ]
    assert rows[0]["logical_date"] == "2024-02-01T00:00:00+00:00"
