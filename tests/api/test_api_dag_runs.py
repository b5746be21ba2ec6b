"""Triggering and reading DAG runs through real HTTP: the scenario's calls, every way to
name a run and its dates, conf checked against Params, and Airflow's refusals."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa
from dag_run_support import add_dags
from sqlalchemy.orm import Session
from task_action_support import AddDagFile, Factory

from tradewind.storage.engine import transaction
from tradewind.storage.tables import DagRow, LogRow

DAG_RUN_FIELDS = {
    "dag_run_id",
    "dag_id",
    "logical_date",
    "execution_date",
    "start_date",
    "end_date",
    "data_interval_start",
    "data_interval_end",
    "last_scheduling_decision",
    "run_type",
    "state",
    "external_trigger",
    "conf",
    "note",
}


@pytest.fixture(autouse=True)
def _dags(add_dag_file: AddDagFile) -> None:
    add_dags(add_dag_file)


def test_scenario_trigger_then_list(client: httpx.Client) -> None:
    triggered = client.post(
        "/dags/random_failures/dagRuns", json={"execution_date": "2022-02-03T14:15:22Z"}
    )

    assert triggered.status_code == 200, triggered.text
    run = triggered.json()
    assert set(run) == DAG_RUN_FIELDS
    assert run["dag_id"] == "random_failures"
    assert run["dag_run_id"] == "manual__2022-02-03T14:15:22+00:00"
    assert run["logical_date"] == run["execution_date"] == "2022-02-03T14:15:22Z"
    assert (run["state"], run["run_type"], run["external_trigger"]) == ("queued", "manual", True)
    assert run["conf"] == {} and run["note"] is None
    assert run["start_date"] is None and run["end_date"] is None

    listed = client.get("/dags/random_failures/dagRuns")
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"dag_runs": [run], "total_entries": 1}


def test_trigger_with_every_field(client: httpx.Client) -> None:
    body = {
        "dag_run_id": "nightly-42",
        "logical_date": "2024-03-01T10:00:00+02:00",
        "execution_date": "2024-03-01T08:00:00Z",
        "data_interval_start": "2024-02-29T00:00:00Z",
        "data_interval_end": "2024-03-01T00:00:00Z",
        "conf": {"n": 5},
        "note": "re-run after the outage",
    }
    run = client.post("/dags/tuned/dagRuns", json=body).json()

    assert run["dag_run_id"] == "nightly-42"
    assert run["logical_date"] == "2024-03-01T08:00:00Z"
    assert (run["data_interval_start"], run["data_interval_end"]) == (
        "2024-02-29T00:00:00Z",
        "2024-03-01T00:00:00Z",
    )
    assert run["conf"] == {"n": 5} and run["note"] == "re-run after the outage"
    assert client.get("/dags/tuned/dagRuns/nightly-42").json() == run


def test_trigger_defaults_and_conf_as_json_text(client: httpx.Client) -> None:
    run = client.post("/dags/tuned/dagRuns", json={"conf": '{"n": 2}'}).json()

    assert run["dag_run_id"].startswith("manual__") and run["logical_date"] is not None
    assert run["conf"] == {"n": 2}
    # @daily: the timetable infers the interval, the day before the logical date.
    assert run["data_interval_start"] < run["data_interval_end"] <= run["logical_date"]


def test_trigger_is_audited_as_the_user(client: httpx.Client, session: Session) -> None:
    client.post("/dags/tuned/dagRuns", json={"dag_run_id": "r1"})

    events = session.execute(sa.select(LogRow.event, LogRow.owner, LogRow.run_id)).all()
    assert ("api.post_dag_run", "admin", None) in events
    assert ("trigger", "admin", "r1") in events


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"conf": {"n": -1}}, "n"),
        ({"conf": {"n": "many"}}, "n"),
        ({"conf": [1, 2]}, "conf"),
        ({"conf": "{not json"}, "conf is not valid JSON"),
        ({"conf": "[1]"}, "conf must be a JSON object"),
        (
            {"logical_date": "2024-01-01T00:00:00Z", "execution_date": "2024-01-02T00:00:00Z"},
            "logical_date conflicts with execution_date",
        ),
        ({"logical_date": "2024-01-01T00:00:00"}, "logical_date"),
        ({"logical_date": "yesterday"}, "logical_date"),
        ({"data_interval_start": "2024-01-01T00:00:00Z"}, "must be specified together"),
        ({"state": "running"}, "state: unknown field"),
        ({"dag_run_id": 7}, "dag_run_id"),
        ({"dag_run_id": " padded "}, "Invalid run id"),
    ],
)
def test_bad_trigger_is_a_400_and_creates_nothing(
    client: httpx.Client, body: dict[str, object], detail: str
) -> None:
    response = client.post("/dags/tuned/dagRuns", json=body)

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert client.get("/dags/tuned/dagRuns").json()["total_entries"] == 0


def test_duplicates_are_409_in_airflows_words(client: httpx.Client) -> None:
    first = {"dag_run_id": "r1", "logical_date": "2024-01-01T00:00:00Z"}
    assert client.post("/dags/tuned/dagRuns", json=first).status_code == 200

    same_id = client.post("/dags/tuned/dagRuns", json={"dag_run_id": "r1"})
    assert same_id.status_code == 409
    assert same_id.json()["detail"] == (
        "DAGRun with DAG ID: 'tuned' and DAGRun ID: 'r1' already exists"
    )
    same_date = client.post("/dags/tuned/dagRuns", json={"execution_date": first["logical_date"]})
    assert same_date.status_code == 409
    assert same_date.json()["detail"] == (
        "DAGRun with DAG ID: 'tuned' and DAGRun logical date: "
        "'2024-01-01 00:00:00+00:00' already exists"
    )


def test_untriggerable_dags(client: httpx.Client, session_factory: Factory) -> None:
    unknown = client.post("/dags/nope/dagRuns", json={})
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "DAG with dag_id: 'nope' not found"

    with transaction(session_factory) as session:
        session.execute(sa.update(DagRow).where(DagRow.dag_id == "tuned").values(is_active=False))
        session.execute(
            sa.update(DagRow)
            .where(DagRow.dag_id == "random_failures")
            .values(has_import_errors=True)
        )
    assert client.post("/dags/tuned/dagRuns", json={}).status_code == 404
    broken = client.post("/dags/random_failures/dagRuns", json={})
    assert broken.status_code == 400
    assert broken.json()["detail"] == "DAG with dag_id: 'random_failures' has import errors"


def test_a_paused_dags_run_is_queued(client: httpx.Client, session_factory: Factory) -> None:
    with transaction(session_factory) as session:
        session.execute(sa.update(DagRow).where(DagRow.dag_id == "tuned").values(is_paused=True))

    assert client.post("/dags/tuned/dagRuns", json={}).json()["state"] == "queued"


def test_get_one_run_and_its_fields(client: httpx.Client) -> None:
    client.post("/dags/tuned/dagRuns", json={"dag_run_id": "r1", "note": "hello"})

    picked = client.get("/dags/tuned/dagRuns/r1", params=[("fields", "note"), ("fields", "state")])
    assert picked.status_code == 200
    assert picked.json() == {"note": "hello", "state": "queued"}
    assert client.get("/dags/tuned/dagRuns/r1", params={"fields": "dag_id,conf"}).json() == {
        "dag_id": "tuned",
        "conf": {},
    }
    bad = client.get("/dags/tuned/dagRuns/r1", params={"fields": "colour"})
    assert bad.status_code == 400 and bad.json()["detail"] == "colour not in DAGRunSchema"

    missing = client.get("/dags/tuned/dagRuns/nope")
    assert missing.status_code == 404
    assert missing.json()["detail"] == (
        "DAGRun with DAG ID: 'tuned' and DagRun ID: 'nope' not found"
    )


def test_who_may_trigger_and_read(
    client: httpx.Client, client_as: Callable[[str], httpx.Client], anonymous: httpx.Client
) -> None:
    client.post("/dags/tuned/dagRuns", json={"dag_run_id": "r1"})
    viewer, user, public = client_as("viewer"), client_as("user"), client_as("public")

    refused = viewer.post("/dags/tuned/dagRuns", json={})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert viewer.get("/dags/tuned/dagRuns/r1").status_code == 200
    assert viewer.get("/dags/tuned/dagRuns").json()["total_entries"] == 1
    assert public.get("/dags/tuned/dagRuns/r1").status_code == 403
    assert anonymous.get("/dags/tuned/dagRuns").status_code == 401
    assert user.post("/dags/tuned/dagRuns", json={"dag_run_id": "r2"}).status_code == 200
