"""``/dags/{dag_id}/tasks`` through real HTTP: a DAG's tasks as its serialized form says."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from dag_support import AddDagFile, add_dags
from grants_support import add_user_with
from sqlalchemy.orm import Session, sessionmaker

from tradewind.security.permissions import READ, TASK_INSTANCE


@pytest.fixture
def dags(add_dag_file: AddDagFile) -> None:
    add_dags(add_dag_file)


def task_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [task["task_id"] for task in response.json()["tasks"]]


@pytest.mark.usefixtures("dags")
def test_get_task_shows_every_field_of_the_spec(client: httpx.Client) -> None:
    extract = client.get("/dags/etl/tasks/extract")
    assert extract.status_code == 200, extract.text
    assert extract.json() == {
        "class_ref": {"module_path": "tradewind.operators.bash", "class_name": "BashOperator"},
        "task_id": "extract",
        "task_display_name": "extract",
        "owner": "data",
        "start_date": "2024-01-01T00:00:00Z",
        "end_date": "2030-01-01T00:00:00Z",
        "trigger_rule": "all_success",
        "extra_links": [],
        "depends_on_past": False,
        "is_mapped": False,
        "wait_for_downstream": False,
        "retries": 3,
        "queue": "default",
        "executor": None,
        "pool": "default_pool",
        "pool_slots": 1,
        "execution_timeout": {"__type": "TimeDelta", "days": 0, "seconds": 1800, "microseconds": 0},
        "retry_delay": {"__type": "TimeDelta", "days": 0, "seconds": 60, "microseconds": 0},
        "retry_exponential_backoff": False,
        "priority_weight": 5,
        "weight_rule": "downstream",
        "ui_color": "#f0ede4",
        "ui_fgcolor": "#000",
        "template_fields": ["bash_command", "env", "cwd"],
        "downstream_task_ids": ["load"],
        "doc_md": "Pulls the rows.",
    }
    load = client.get("/dags/etl/tasks/load").json()
    assert load["owner"] == "ops" and load["trigger_rule"] == "all_done"
    assert load["execution_timeout"] is None and load["downstream_task_ids"] == []


@pytest.mark.usefixtures("dags")
def test_get_tasks_lists_and_orders(client: httpx.Client) -> None:
    listed = client.get("/dags/etl/tasks")
    assert task_ids(listed) == ["extract", "load"]
    assert listed.json()["total_entries"] == 2
    assert listed.json()["tasks"][0] == client.get("/dags/etl/tasks/extract").json()

    assert task_ids(client.get("/dags/etl/tasks", params={"order_by": "-task_id"})) == [
        "load",
        "extract",
    ]
    assert task_ids(client.get("/dags/etl/tasks", params={"order_by": "owner"})) == [
        "extract",
        "load",
    ]
    # None sorts first: load has no execution_timeout.
    by_timeout = client.get("/dags/etl/tasks", params={"order_by": "execution_timeout"})
    assert task_ids(by_timeout) == ["load", "extract"]

    bad = client.get("/dags/etl/tasks", params={"order_by": "downstream_task_ids"})
    assert bad.status_code == 400 and "downstream_task_ids" in bad.json()["detail"]


@pytest.mark.usefixtures("dags")
def test_unknown_dags_and_tasks_are_404s(client: httpx.Client) -> None:
    assert client.get("/dags/nope/tasks").status_code == 404
    assert client.get("/dags/nope/tasks/extract").status_code == 404
    missing = client.get("/dags/etl/tasks/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


@pytest.mark.usefixtures("dags")
def test_task_permissions(
    client_as: Callable[[str], httpx.Client], session_factory: sessionmaker[Session]
) -> None:
    assert task_ids(client_as("viewer").get("/dags/etl/tasks")) == ["extract", "load"]
    assert client_as("public").get("/dags/etl/tasks").status_code == 403

    add_user_with(session_factory, "etl_reader", [(READ, "DAG:etl"), (READ, TASK_INSTANCE)])
    reader = client_as("etl_reader")
    assert reader.get("/dags/etl/tasks/load").status_code == 200
    assert reader.get("/dags/reports/tasks").status_code == 403

    add_user_with(session_factory, "dag_only", [(READ, "DAG:etl")])
    assert client_as("dag_only").get("/dags/etl/tasks").status_code == 403
