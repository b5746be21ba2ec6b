"""``.../logs/{task_try_number}`` through real HTTP: Airflow 2.10's shapes, paging, safety."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from grants_support import add_user_with
from itsdangerous import URLSafeSerializer
from task_action_support import (
    RANDOM_FAILURES,
    AddDagFile,
    Factory,
    arrange_run,
    at,
)

from tradewind.config import Settings
from tradewind.errors import NotFound
from tradewind.security.permissions import READ, TASK_LOG
from tradewind.services.task_logs import LogTry, read_task_log, task_log_path
from tradewind.storage.engine import transaction
from tradewind.storage.tables import TaskInstanceHistoryRow, TaskInstanceRow

SECRET = "a secret key shared by every API server"
DAG_ID = "random_failures"
JSON = {"Accept": "application/json"}
FIRST_TRY = "[2024-05-01T00:00:01.000+0000] {python.py:1} ERROR - The coin came up tails\n"
SECOND_TRY = (
    "[2024-05-01T00:05:00.000+0000] {runner.py:2} INFO - Running random-task\n"
    "[2024-05-01T00:05:00.100+0000] {python.py:3} INFO - Done. Returned value was: heads\n"
)


@pytest.fixture
def api_settings(api_settings: Settings) -> Settings:
    return api_settings.replace("webserver", secret_key=SECRET)


@pytest.fixture
def logs(api_settings: Settings) -> Path:
    return Path(api_settings.logging.base_log_folder)


@pytest.fixture
def run_id(add_dag_file: AddDagFile, session_factory: Factory) -> str:
    """A run whose random-task failed on worker-0, then succeeded on worker-1 (try 2)."""
    add_dag_file("random_failures.py", RANDOM_FAILURES)
    states = {"start": "success", "random-task": "success"}
    run_id = arrange_run(
        session_factory, DAG_ID, at("2024-05-01T00:00:00Z"), states, run_state="running"
    )
    with transaction(session_factory) as session:
        ti = session.query(TaskInstanceRow).filter_by(run_id=run_id, task_id="random-task").one()
        ti.try_number = 2
        session.add(
            TaskInstanceHistoryRow(
                dag_id=DAG_ID,
                run_id=run_id,
                task_id="random-task",
                try_number=1,
                state="failed",
                hostname="worker-0",
            )
        )
    return run_id


def _url(run_id: str, try_number: int | str, task_id: str = "random-task") -> str:
    return f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"


def _write(logs: Path, run_id: str, try_number: int, text: str, map_index: int = -1) -> Path:
    path = task_log_path(
        logs,
        dag_id=DAG_ID,
        run_id=run_id,
        task_id="random-task",
        try_number=try_number,
        map_index=map_index,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _token(response: httpx.Response) -> dict[str, object]:
    loaded: dict[str, object] = URLSafeSerializer(SECRET).loads(
        response.json()["continuation_token"]
    )
    return loaded


def test_json_content_is_airflows_host_and_log_pair_per_try(
    client: httpx.Client, run_id: str, logs: Path
) -> None:
    first = _write(logs, run_id, 1, FIRST_TRY)
    second = _write(logs, run_id, 2, SECOND_TRY)

    for try_number, path, host, text in (
        (1, first, "worker-0", FIRST_TRY),
        (2, second, "worker-1", SECOND_TRY),
    ):
        response = client.get(_url(run_id, try_number), headers=JSON)
        assert response.status_code == 200, response.text
        log = text.rstrip("\n")
        assert response.json()["content"] == repr(
            [(host, f"*** Found local files:\n***   * {path}\n{log}")]
        )
        assert _token(response) == {"end_of_log": True, "log_pos": len(log)}


def test_a_running_try_is_read_page_by_page_with_the_token(
    client: httpx.Client, add_dag_file: AddDagFile, session_factory: Factory, logs: Path
) -> None:
    add_dag_file("random_failures.py", RANDOM_FAILURES)
    running = {"start": "success", "random-task": "running"}
    run_id = arrange_run(
        session_factory, DAG_ID, at("2024-05-02T00:00:00Z"), running, run_state="running"
    )
    path = _write(logs, run_id, 1, "one\ntwo\n")

    first = client.get(_url(run_id, 1), headers=JSON)
    assert _token(first) == {"end_of_log": False, "log_pos": len("one\ntwo")}

    with path.open("a") as log:
        log.write("three\n")
    token = first.json()["continuation_token"]
    rest = client.get(_url(run_id, 1), params={"token": token}, headers=JSON)
    assert rest.json()["content"] == repr([("worker-1", "\nthree")])
    assert _token(rest) == {"end_of_log": False, "log_pos": len("one\ntwo\nthree")}

    # The recipe in the spec's description: a token made with the deployment's key.
    made = URLSafeSerializer(SECRET).dumps({"log_pos": 4})
    tail = client.get(_url(run_id, 1), params={"token": made}, headers=JSON)
    assert tail.json()["content"] == repr([("worker-1", "two\nthree")])


def test_plain_text_is_chosen_by_accept_as_airflow_chooses(
    client: httpx.Client, run_id: str, logs: Path
) -> None:
    path = _write(logs, run_id, 2, SECOND_TRY)
    whole = f"worker-1\n*** Found local files:\n***   * {path}\n{SECOND_TRY}"

    for accept in ("text/plain", "*/*", "text/*, application/json;q=0.9"):
        response = client.get(_url(run_id, 2), headers={"Accept": accept})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text == whole

    for accept in ("application/json", "text/plain;q=0.4, application/json;q=0.5", "image/png"):
        response = client.get(_url(run_id, 2), headers={"Accept": accept})
        assert response.headers["content-type"] == "application/json", accept
    request = client.build_request("GET", _url(run_id, 2))
    del request.headers["accept"]
    assert client.send(request).headers["content-type"] == "application/json"


def test_missing_file_of_an_existing_try_says_so(
    client: httpx.Client, run_id: str, logs: Path
) -> None:
    response = client.get(_url(run_id, 1), headers=JSON)
    path = task_log_path(logs, dag_id=DAG_ID, run_id=run_id, task_id="random-task", try_number=1)
    assert response.status_code == 200
    assert response.json()["content"] == repr(
        [("worker-0", f"*** Log file does not exist: {path}\n")]
    )


def test_mapped_instances_have_their_own_logs(
    client: httpx.Client, run_id: str, logs: Path, session_factory: Factory
) -> None:
    with transaction(session_factory) as session:
        session.add(
            TaskInstanceRow(
                dag_id=DAG_ID,
                run_id=run_id,
                task_id="random-task",
                map_index=0,
                try_number=1,
                state="success",
                hostname="worker-2",
            )
        )
    path = _write(logs, run_id, 1, "mapped\n", map_index=0)
    response = client.get(_url(run_id, 1), params={"map_index": 0}, headers=JSON)
    assert response.json()["content"] == repr(
        [("worker-2", f"*** Found local files:\n***   * {path}\nmapped")]
    )
    assert client.get(_url(run_id, 1), params={"map_index": 1}).status_code == 404


def test_unknown_instances_and_tries_are_404s_and_bad_input_400s(
    client: httpx.Client, run_id: str
) -> None:
    for url in (
        _url(run_id, 1, task_id="nope"),
        _url("nope", 1),
        _url(run_id, 3),
        _url(run_id, 0),
        _url(run_id, 1, task_id="end"),  # never ran: it has no try yet
    ):
        assert client.get(url, headers=JSON).status_code == 404, url

    forged = client.get(_url(run_id, 1), params={"token": "forged"}, headers=JSON)
    assert forged.status_code == 400
    assert (
        forged.json()["detail"] == "Bad Signature. Please use only the tokens provided by the API."
    )
    other_key = URLSafeSerializer("another key").dumps({"log_pos": 0})
    assert client.get(_url(run_id, 1), params={"token": other_key}).status_code == 400
    assert client.get(_url(run_id, "first")).status_code == 400


def test_no_log_is_read_from_outside_the_logs_folder(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    secret = "not a log of this deployment"
    # A run id may hold "/" and "..": its path would leave the folder.
    escaping = LogTry(DAG_ID, "../../../../outside", "t", -1, 1, "worker-1", True)
    outside = task_log_path(logs, dag_id=DAG_ID, run_id=escaping.run_id, task_id="t", try_number=1)
    assert not outside.resolve().is_relative_to(logs)
    outside.resolve().parent.mkdir(parents=True)
    outside.resolve().write_text(secret)
    with pytest.raises(NotFound, match="not in the logs folder"):
        read_task_log(logs, escaping)

    # So would a link inside the folder that points out of it.
    linked = LogTry(DAG_ID, "linked", "t", -1, 1, "worker-1", True)
    path = task_log_path(logs, dag_id=DAG_ID, run_id="linked", task_id="t", try_number=1)
    path.parent.mkdir(parents=True)
    path.symlink_to(outside.resolve())
    with pytest.raises(NotFound, match="not in the logs folder"):
        read_task_log(logs, linked)


def test_run_ids_with_slashes_cannot_name_a_path_over_http(
    client: httpx.Client, add_dag_file: AddDagFile, session_factory: Factory, logs: Path
) -> None:
    add_dag_file("random_failures.py", RANDOM_FAILURES)
    sneaky = "../../../../outside"
    states = {"random-task": "success"}
    arrange_run(session_factory, DAG_ID, at("2024-05-03T00:00:00Z"), states, run_id=sneaky)
    target = task_log_path(logs, dag_id=DAG_ID, run_id=sneaky, task_id="random-task", try_number=1)
    target.resolve().parent.mkdir(parents=True)
    target.resolve().write_text("not a log of this deployment\n")

    for run_id in (sneaky, sneaky.replace("/", "%2F")):
        response = client.get(_url(run_id, 1), headers=JSON)
        assert response.status_code == 404
        assert "not a log" not in response.text


def test_reading_logs_needs_task_logs_and_the_dag(
    client_as: Callable[[str], httpx.Client], run_id: str, session_factory: Factory
) -> None:
    assert client_as("viewer").get(_url(run_id, 1)).status_code == 200
    assert client_as("public").get(_url(run_id, 1)).status_code == 403
    add_user_with(session_factory, "other-dags", [(READ, TASK_LOG), (READ, "DAG:other")])
    assert client_as("other-dags").get(_url(run_id, 1)).status_code == 403
    add_user_with(session_factory, "this-dag", [(READ, TASK_LOG), (READ, f"DAG:{DAG_ID}")])
    assert client_as("this-dag").get(_url(run_id, 1)).status_code == 200
