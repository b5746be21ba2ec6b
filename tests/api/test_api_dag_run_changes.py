"""Changing DAG runs through real HTTP: state, clear (dry run by default), note, delete,
the run's upstream dataset events, and who may do each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from dag_run_support import add_dags, start_run
from sqlalchemy.orm import Session
from task_action_support import AddDagFile, Factory, ti_states

from tradewind.storage.engine import transaction
from tradewind.storage.repositories.dag_runs import require_dag_run
from tradewind.storage.tables import DatasetEventRow, DatasetRow, LogRow, TaskInstanceRow
from tradewind.storage.tables.dataset import dagrun_dataset_event

RUN = "/dags/random_failures/dagRuns/r1"


@pytest.fixture(autouse=True)
def _run(add_dag_file: AddDagFile, client: httpx.Client) -> None:
    """random_failures run r1 at 2022-02-03T14:15:22Z, queued (no task instances yet)."""
    add_dags(add_dag_file)
    body = {"dag_run_id": "r1", "execution_date": "2022-02-03T14:15:22Z"}
    assert client.post("/dags/random_failures/dagRuns", json=body).status_code == 200


def test_mark_success_finishes_every_task(client: httpx.Client, session_factory: Factory) -> None:
    start_run(
        session_factory, "random_failures", "r1", {"start": "success", "random-task": "running"}
    )

    response = client.patch(RUN, json={"state": "success"})

    assert response.status_code == 200, response.text
    run = response.json()
    assert run["state"] == "success" and run["end_date"] is not None
    assert ti_states(session_factory, "random_failures", "r1") == {
        "start": "success",
        "random-task": "success",
        "end": "success",
    }


def test_mark_failed_then_queued(client: httpx.Client, session_factory: Factory) -> None:
    start_run(
        session_factory, "random_failures", "r1", {"start": "success", "random-task": "running"}
    )

    assert client.patch(RUN, json={"state": "failed"}).json()["state"] == "failed"
    assert ti_states(session_factory, "random_failures", "r1") == {
        "start": "success",
        "random-task": "failed",
        "end": "skipped",
    }

    queued = client.patch(RUN, json={"state": "queued"}).json()
    assert (queued["state"], queued["start_date"], queued["end_date"]) == ("queued", None, None)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"state": "running"}, "state"),
        ({"state": None}, "state"),
        ({}, "state"),
        ({"state": "success", "note": "x"}, "note: unknown field"),
    ],
)
def test_bad_state_is_a_400(client: httpx.Client, body: dict[str, object], detail: str) -> None:
    response = client.patch(RUN, json=body)

    assert response.status_code == 400 and detail in response.json()["detail"]
    assert client.get(RUN).json()["state"] == "queued"


def test_clear_is_a_dry_run_unless_asked(client: httpx.Client, session_factory: Factory) -> None:
    start_run(
        session_factory,
        "random_failures",
        "r1",
        {"start": "success", "random-task": "failed", "end": "upstream_failed"},
        run_state="failed",
    )

    planned = client.post(f"{RUN}/clear", json={})
    assert planned.status_code == 200, planned.text
    assert planned.json() == {
        "task_instances": [
            {
                "task_id": task_id,
                "dag_id": "random_failures",
                "execution_date": "2022-02-03T14:15:22Z",
                "dag_run_id": "r1",
            }
            for task_id in ("end", "random-task", "start")
        ]
    }
    assert client.get(RUN).json()["state"] == "failed"

    cleared = client.post(f"{RUN}/clear", json={"dry_run": False})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["state"] == "queued" and cleared.json()["dag_run_id"] == "r1"
    assert set(ti_states(session_factory, "random_failures", "r1").values()) == {None}


def test_clear_refusals(client: httpx.Client) -> None:
    assert client.post(f"{RUN}/clear", json={"only_failed": True}).status_code == 400
    assert client.post(f"{RUN}/clear", json={"dry_run": "no"}).status_code == 400
    missing = client.post("/dags/random_failures/dagRuns/nope/clear", json={"dry_run": False})
    assert missing.status_code == 404
    assert missing.json()["detail"] == (
        "DAGRun with DAG ID: 'random_failures' and DagRun ID: 'nope' not found"
    )
    nothing = client.post(f"{RUN}/clear", json={"dry_run": True})
    assert nothing.json() == {"task_instances": []}


def test_set_note(client: httpx.Client) -> None:
    noted = client.patch(f"{RUN}/setNote", json={"note": "looked at it"})

    assert noted.status_code == 200 and noted.json()["note"] == "looked at it"
    assert client.get(RUN).json()["note"] == "looked at it"
    assert client.patch(f"{RUN}/setNote", json={"note": None}).json()["note"] is None
    assert client.patch(f"{RUN}/setNote", json={}).status_code == 400
    assert client.patch(f"{RUN}/setNote", json={"note": 5}).status_code == 400
    assert client.patch("/dags/x/dagRuns/r1/setNote", json={"note": "n"}).status_code == 404


def test_delete(client: httpx.Client, session_factory: Factory, session: Session) -> None:
    start_run(session_factory, "random_failures", "r1", {"start": "success"})

    deleted = client.delete(RUN)

    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(RUN).status_code == 404
    assert session.scalar(sa.select(sa.func.count()).select_from(TaskInstanceRow)) == 0
    again = client.delete(RUN)
    assert again.status_code == 404
    assert again.json()["detail"] == (
        "DAGRun with DAG ID: 'random_failures' and DagRun ID: 'r1' not found"
    )
    events = session.scalars(sa.select(LogRow.event)).all()
    assert "api.delete_dag_run" in events


def test_unknown_runs_are_404(client: httpx.Client) -> None:
    for response in (
        client.patch("/dags/random_failures/dagRuns/nope", json={"state": "failed"}),
        client.get("/dags/random_failures/dagRuns/nope/upstreamDatasetEvents"),
    ):
        assert response.status_code == 404
        assert "DagRun ID: 'nope' not found" in response.json()["detail"]


def test_upstream_dataset_events_of_a_manual_run_are_none(client: httpx.Client) -> None:
    response = client.get(f"{RUN}/upstreamDatasetEvents")

    assert response.status_code == 200, response.text
    assert response.json() == {"dataset_events": [], "total_entries": 0}


def test_upstream_dataset_events_of_a_dataset_triggered_run(
    client: httpx.Client, session_factory: Factory
) -> None:
    with transaction(session_factory) as session:
        dataset = DatasetRow(uri="s3://bucket/orders")
        session.add(dataset)
        session.flush()
        event = DatasetEventRow(
            dataset_id=dataset.id,
            extra={"rows": 10},
            source_dag_id="producer",
            source_task_id="export",
            source_run_id="p1",
            source_map_index=-1,
            timestamp=datetime(2022, 2, 3, 14, 0, tzinfo=UTC),
        )
        session.add(event)
        session.flush()
        run = require_dag_run(session, "random_failures", "r1")
        session.execute(
            sa.insert(dagrun_dataset_event).values(dag_run_id=run.id, event_id=event.id)
        )

    body = client.get(f"{RUN}/upstreamDatasetEvents").json()

    assert body["total_entries"] == 1
    (found,) = body["dataset_events"]
    assert found["dataset_uri"] == "s3://bucket/orders" and found["extra"] == {"rows": 10}
    assert (found["source_dag_id"], found["source_task_id"], found["source_run_id"]) == (
        "producer",
        "export",
        "p1",
    )
    assert found["timestamp"] == "2022-02-03T14:00:00Z"
    assert [(r["dag_id"], r["run_id"]) for r in found["created_dagruns"]] == [
        ("random_failures", "r1")
    ]


def test_viewers_and_users(client_as: Callable[[str], httpx.Client]) -> None:
    viewer, user = client_as("viewer"), client_as("user")

    for response in (
        viewer.patch(RUN, json={"state": "failed"}),
        viewer.post(f"{RUN}/clear", json={}),
        viewer.patch(f"{RUN}/setNote", json={"note": "mine"}),
        viewer.delete(RUN),
    ):
        assert response.status_code == 403, response.request
    assert viewer.get(f"{RUN}/upstreamDatasetEvents").status_code == 200
    assert client_as("public").get(f"{RUN}/upstreamDatasetEvents").status_code == 403

    assert user.patch(f"{RUN}/setNote", json={"note": "mine"}).status_code == 200
    assert user.patch(RUN, json={"state": "failed"}).status_code == 200
    assert user.post(f"{RUN}/clear", json={"dry_run": False}).status_code == 200
    assert user.delete(RUN).status_code == 204
