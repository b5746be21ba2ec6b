"""``clearTaskInstances`` and ``updateTaskInstancesState`` through real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx
import pytest
from grants_support import add_user_with
from task_action_support import (
    HEADS,
    RANDOM_FAILURES,
    TAILS,
    AddDagFile,
    Factory,
    arrange_run,
    at,
    run_state,
    ti_states,
)

from tradewind.security.permissions import EDIT, TASK_INSTANCE

DAG_ID = "random_failures"
CLEAR = f"/dags/{DAG_ID}/clearTaskInstances"
SET_STATE = f"/dags/{DAG_ID}/updateTaskInstancesState"

#: Call 5 of the scenario (shared/reference/scenario.md), verbatim.
SCENARIO_CLEAR = {
    "dry_run": False,
    "task_ids": ["random-task"],
    "start_date": "2022-02-03T17:29:00.056990+00:00",
    "end_date": "2022-02-03T17:52:59.147853+00:00",
    "only_failed": True,
    "only_running": False,
    "include_subdags": False,
    "include_parentdag": False,
    "reset_dag_runs": True,
}


@pytest.fixture
def dag(add_dag_file: AddDagFile) -> None:
    add_dag_file("random_failures.py", RANDOM_FAILURES)


def _refs(response: httpx.Response) -> list[tuple[str, str, datetime]]:
    assert response.status_code == 200, response.text
    return [
        (ref["dag_run_id"], ref["task_id"], datetime.fromisoformat(ref["execution_date"]))
        for ref in response.json()["task_instances"]
        if ref["dag_id"] == DAG_ID
    ]


@pytest.mark.usefixtures("dag")
def test_scenario_clear_reruns_the_failed_tries_of_runs_in_the_logical_date_window(
    client: httpx.Client, session_factory: Factory
) -> None:
    # As in Airflow, the window bounds the runs' logical dates, inclusively: the two
    # runs triggered at its very ends are in it; the run triggered by call 3 of the
    # scenario (14:15:22Z) and one a minute after the window are not.
    first = at("2022-02-03T17:29:00.056990+00:00")
    last = at("2022-02-03T17:52:59.147853+00:00")
    in_first = arrange_run(session_factory, DAG_ID, first, TAILS)
    in_last = arrange_run(session_factory, DAG_ID, last, TAILS)
    called_3 = arrange_run(session_factory, DAG_ID, at("2022-02-03T14:15:22Z"), TAILS)
    after = arrange_run(session_factory, DAG_ID, at("2022-02-03T17:53:59Z"), TAILS)
    heads = arrange_run(
        session_factory, DAG_ID, at("2022-02-03T17:40:00Z"), HEADS, run_state="success"
    )

    response = client.post(CLEAR, json=SCENARIO_CLEAR)

    assert _refs(response) == [(in_first, "random-task", first), (in_last, "random-task", last)]
    for run_id in (in_first, in_last):
        # Cleared: the scheduler runs random-task again in the re-queued run.
        assert ti_states(session_factory, DAG_ID, run_id)["random-task"] is None
        assert run_state(session_factory, DAG_ID, run_id) == "queued"
        # Only the named task: its downstream was not asked for.
        assert ti_states(session_factory, DAG_ID, run_id)["end"] == "upstream_failed"
    for run_id in (called_3, after):
        assert ti_states(session_factory, DAG_ID, run_id) == TAILS
        assert run_state(session_factory, DAG_ID, run_id) == "failed"
    assert run_state(session_factory, DAG_ID, heads) == "success"


@pytest.mark.usefixtures("dag")
def test_dry_run_is_the_default_and_changes_nothing(
    client: httpx.Client, session_factory: Factory
) -> None:
    run = arrange_run(session_factory, DAG_ID, at("2024-05-01T00:00:00Z"), TAILS)
    other = arrange_run(session_factory, DAG_ID, at("2024-05-02T00:00:00Z"), TAILS)

    response = client.post(
        CLEAR,
        json={"dag_run_id": run, "task_ids": ["random-task"], "include_downstream": True},
    )

    # only_failed is true by default, and upstream_failed counts as failed.
    assert [(run_id, task) for run_id, task, _ in _refs(response)] == [
        (run, "end"),
        (run, "random-task"),
    ]
    assert ti_states(session_factory, DAG_ID, run) == TAILS
    assert run_state(session_factory, DAG_ID, run) == "failed"

    future = client.post(
        CLEAR, json={"dag_run_id": run, "include_future": True, "only_failed": False}
    )
    assert {run_id for run_id, _, _ in _refs(future)} == {run, other}


@pytest.mark.usefixtures("dag")
def test_clear_without_reset_leaves_the_run_state(
    client: httpx.Client, session_factory: Factory
) -> None:
    run = arrange_run(session_factory, DAG_ID, at("2024-05-01T00:00:00Z"), TAILS)

    response = client.post(CLEAR, json={"dry_run": False, "dag_run_id": run})

    assert {task for _, task, _ in _refs(response)} == {"random-task", "end"}
    assert ti_states(session_factory, DAG_ID, run) == {
        "start": "success",
        "random-task": None,
        "end": None,
    }
    assert run_state(session_factory, DAG_ID, run) == "failed"


@pytest.mark.usefixtures("dag")
def test_unknown_task_ids_match_nothing_as_in_airflow(
    client: httpx.Client, session_factory: Factory
) -> None:
    arrange_run(session_factory, DAG_ID, at("2024-05-01T00:00:00Z"), TAILS)
    response = client.post(CLEAR, json={"dry_run": False, "task_ids": ["no-such-task"]})
    assert _refs(response) == []


@pytest.mark.usefixtures("dag")
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"only_running": True}, "only_failed and only_running"),
        ({"dag_run_id": "r", "start_date": "2024-01-01T00:00:00Z"}, "Exactly one of dag_run_id"),
        (
            {"start_date": "2024-01-02T00:00:00Z", "end_date": "2024-01-01T00:00:00Z"},
            "end_date is sooner than start_date",
        ),
        ({"start_date": "2024-01-01T00:00:00"}, "start_date"),
        ({"task_ids": []}, "task_ids"),
        ({"dry_run": "no"}, "dry_run"),
        ({"include_everything": True}, "include_everything: unknown field"),
    ],
)
def test_bad_clear_requests_are_400s(
    client: httpx.Client, body: dict[str, object], detail: str
) -> None:
    response = client.post(CLEAR, json=body)
    assert response.status_code == 400, response.text
    assert detail in response.json()["detail"]


@pytest.mark.usefixtures("dag")
def test_unknown_dag_or_run_is_a_404(client: httpx.Client) -> None:
    assert client.post("/dags/nope/clearTaskInstances", json={}).status_code == 404
    missing_run = client.post(CLEAR, json={"dag_run_id": "nope"})
    assert missing_run.status_code == 404 and "nope" in missing_run.json()["detail"]


@pytest.mark.usefixtures("dag")
def test_clearing_needs_edit_on_task_instances_and_the_dag(
    client_as: Callable[[str], httpx.Client], session_factory: Factory
) -> None:
    run = arrange_run(session_factory, DAG_ID, at("2024-05-01T00:00:00Z"), TAILS)
    body = {"dry_run": False, "dag_run_id": run}
    assert client_as("viewer").post(CLEAR, json=body).status_code == 403
    assert client_as("viewer").post(SET_STATE, json={}).status_code == 403
    add_user_with(session_factory, "other-dags", [(EDIT, TASK_INSTANCE), (EDIT, "DAG:other")])
    assert client_as("other-dags").post(CLEAR, json=body).status_code == 403
    assert ti_states(session_factory, DAG_ID, run) == TAILS
    add_user_with(session_factory, "this-dag", [(EDIT, TASK_INSTANCE), (EDIT, f"DAG:{DAG_ID}")])
    assert client_as("this-dag").post(CLEAR, json=body).status_code == 200
    assert client_as("user").post(CLEAR, json={}).status_code == 200


@pytest.mark.usefixtures("dag")
def test_set_state_marks_the_task_and_resumes_its_failed_downstream(
    client: httpx.Client, session_factory: Factory
) -> None:
    run = arrange_run(session_factory, DAG_ID, at("2024-05-01T00:00:00Z"), TAILS)
    body = {"task_id": "random-task", "dag_run_id": run, "new_state": "success"}

    planned = client.post(SET_STATE, json=body)
    assert [(r, t) for r, t, _ in _refs(planned)] == [(run, "random-task")]
    assert ti_states(session_factory, DAG_ID, run) == TAILS, "a dry run by default"

    done = client.post(SET_STATE, json={**body, "dry_run": False})

    assert _refs(done) == [(run, "random-task", at("2024-05-01T00:00:00Z"))]
    assert ti_states(session_factory, DAG_ID, run) == {
        "start": "success",
        "random-task": "success",
        "end": None,
    }
    assert run_state(session_factory, DAG_ID, run) == "queued"


@pytest.mark.usefixtures("dag")
def test_set_state_by_execution_date_with_relatives(
    client: httpx.Client, session_factory: Factory
) -> None:
    run = arrange_run(session_factory, DAG_ID, at("2024-05-01T00:00:00Z"), TAILS)
    response = client.post(
        SET_STATE,
        json={
            "dry_run": False,
            "task_id": "random-task",
            "execution_date": "2024-05-01T02:00:00+02:00",
            "include_upstream": True,
            "include_downstream": True,
            "new_state": "skipped",
        },
    )
    assert {task for _, task, _ in _refs(response)} == {"start", "random-task", "end"}
    assert set(ti_states(session_factory, DAG_ID, run).values()) == {"skipped"}


@pytest.mark.usefixtures("dag")
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"task_id": "random-task", "new_state": "success"}, "Exactly one of"),
        (
            {
                "task_id": "random-task",
                "dag_run_id": "r",
                "execution_date": "2024-05-01T00:00:00Z",
                "new_state": "success",
            },
            "Exactly one of",
        ),
        ({"task_id": "random-task", "dag_run_id": "r", "new_state": "running"}, "new_state"),
        ({"dag_run_id": "r", "new_state": "failed"}, "task_id"),
    ],
)
def test_bad_set_state_requests_are_400s(
    client: httpx.Client, body: dict[str, object], detail: str
) -> None:
    response = client.post(SET_STATE, json=body)
    assert response.status_code == 400, response.text
    assert detail in response.json()["detail"]


@pytest.mark.usefixtures("dag")
def test_set_state_of_missing_things_is_a_404(
    client: httpx.Client, session_factory: Factory
) -> None:
    run = arrange_run(session_factory, DAG_ID, at("2024-05-01T00:00:00Z"), TAILS)
    for path, body in (
        ("/dags/nope/updateTaskInstancesState", {"task_id": "t", "dag_run_id": run}),
        (SET_STATE, {"task_id": "nope", "dag_run_id": run}),
        (SET_STATE, {"task_id": "random-task", "dag_run_id": "nope"}),
        (SET_STATE, {"task_id": "random-task", "execution_date": "2020-01-01T00:00:00Z"}),
    ):
        response = client.post(path, json={**body, "new_state": "failed", "dry_run": False})
        assert response.status_code == 404, (body, response.text)
    assert ti_states(session_factory, DAG_ID, run) == TAILS
