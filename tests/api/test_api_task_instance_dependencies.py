"""``.../dependencies`` through real HTTP: why a task instance is not queued yet."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from task_instance_support import AddDagFile, add_dags, make_run

from tradewind.storage.engine import transaction
from tradewind.storage.repositories.task_instances import require_task_instance
from tradewind.storage.tables import DagRow

ClientAs = Callable[[str], httpx.Client]
Factory = sessionmaker[Session]


@pytest.fixture
def stored(add_dag_file: AddDagFile, session_factory: Factory, api_server: object) -> None:
    add_dags(add_dag_file, session_factory)


def unmet(client: httpx.Client, run_id: str, task_id: str, dag_id: str = "etl") -> dict[str, str]:
    url = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/dependencies"
    response = client.get(url)
    assert response.status_code == 200, response.text
    dependencies = response.json()["dependencies"]
    names = [dependency["name"] for dependency in dependencies]
    assert names == sorted(names)
    return {dependency["name"]: dependency["reason"] for dependency in dependencies}


def test_waiting_on_upstream_and_on_the_scheduler(
    client: httpx.Client, stored: None, session_factory: Factory
) -> None:
    run_id = make_run(session_factory, states={"extract": ("success", 1)})
    # transform's upstream succeeded: only the scheduler has yet to schedule it.
    assert unmet(client, run_id, "transform") == {
        "Task Instance State": "Task is in the 'None' state."
    }
    load = unmet(client, run_id, "load")
    assert set(load) == {"Task Instance State", "Trigger Rule"}
    assert "'all_success'" in load["Trigger Rule"] and "transform" in load["Trigger Rule"]
    # Finished (or running) task instances wait for nothing.
    assert unmet(client, run_id, "extract") == {}


def test_run_not_running_and_dag_paused(
    client: httpx.Client, stored: None, session_factory: Factory
) -> None:
    run_id = make_run(session_factory, run_state="queued")
    with transaction(session_factory) as session:
        dag = session.get(DagRow, "etl")
        assert dag is not None
        dag.is_paused = True
    reasons = unmet(client, run_id, "extract")
    assert set(reasons) == {"Dag Not Paused", "Dagrun Running", "Task Instance State"}
    assert reasons["Dagrun Running"].endswith("but in the state 'queued'.")
    assert reasons["Dag Not Paused"] == "Task's DAG 'etl' is paused."


def test_depends_on_past(client: httpx.Client, stored: None, session_factory: Factory) -> None:
    make_run(session_factory, day=-1, states={"load": ("failed", 1)})
    run_id = make_run(
        session_factory,
        states={"extract": ("success", 1), "transform": ("success", 1), "load": ("scheduled", 0)},
    )
    reasons = unmet(client, run_id, "load")
    assert list(reasons) == ["Previous Dagrun State"]
    assert "'failed'" in reasons["Previous Dagrun State"]


def test_pool_and_concurrency_limits(
    client: httpx.Client, stored: None, session_factory: Factory
) -> None:
    assert client.post("/pools", json={"name": "tiny", "slots": 1}).status_code == 200
    run_id = make_run(session_factory, states={"extract": ("running", 1)})
    other_run = make_run(session_factory, "other", day=1, states={"only": ("scheduled", 0)})
    with transaction(session_factory) as session:
        require_task_instance(session, "etl", run_id, "extract").pool = "tiny"
        require_task_instance(session, "other", other_run, "only").pool = "tiny"
    assert unmet(client, other_run, "only", "other") == {
        "Pool Slots Available": "Not scheduling since there are 0 open slots in pool tiny"
        " and require 1 pool slots"
    }
    with transaction(session_factory) as session:
        require_task_instance(session, "other", other_run, "only").pool = "vanished"
        dag = session.get(DagRow, "other")
        assert dag is not None
        dag.max_active_tasks = 0
    assert set(unmet(client, other_run, "only", "other")) == {"Pool Slots Available"}

    with transaction(session_factory) as session:
        dag = session.get(DagRow, "etl")
        assert dag is not None
        dag.max_active_tasks = 1
        require_task_instance(session, "etl", run_id, "report").state = "scheduled"
    reasons = unmet(client, run_id, "report")
    assert "Task Instance Slots Available" in reasons
    assert "(1)" in reasons["Task Instance Slots Available"]


def test_dependencies_refusals(
    client: httpx.Client, client_as: ClientAs, stored: None, session_factory: Factory
) -> None:
    run_id = make_run(session_factory)
    base = f"/dags/etl/dagRuns/{run_id}/taskInstances"
    assert client.get(f"{base}/nope/dependencies").status_code == 404
    assert client.get(f"{base}/extract/0/dependencies").status_code == 404
    assert client_as("viewer").get(f"{base}/extract/dependencies").status_code == 200
    assert client_as("public").get(f"{base}/extract/dependencies").status_code == 403
