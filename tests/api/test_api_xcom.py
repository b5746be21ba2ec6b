"""``.../xcomEntries`` through real HTTP: lists across DAGs, one value, and who may see."""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from grants_support import add_user_with
from task_action_support import HEADS, OTHER, RANDOM_FAILURES, AddDagFile, Factory, arrange_run, at

from tradewind.security.permissions import READ, XCOM
from tradewind.storage.engine import transaction
from tradewind.storage.tables import TaskInstanceRow, XComRow

DAG_ID = "random_failures"
EVERYWHERE = "/dags/~/dagRuns/~/taskInstances/~/xcomEntries"


class Runs:
    def __init__(self, mine: str, other: str) -> None:
        self.mine = mine
        self.other = other

    def entries(self, task_id: str = "random-task") -> str:
        return f"/dags/{DAG_ID}/dagRuns/{self.mine}/taskInstances/{task_id}/xcomEntries"


@pytest.fixture
def runs(add_dag_file: AddDagFile, session_factory: Factory) -> Runs:
    """XComs of a random_failures run (one of them by map index 0) and of an ``other`` run."""
    add_dag_file("random_failures.py", RANDOM_FAILURES)
    add_dag_file("other.py", OTHER)
    mine = arrange_run(session_factory, DAG_ID, at("2024-05-01T00:00:00Z"), HEADS)
    other = arrange_run(session_factory, "other", at("2024-04-01T00:00:00Z"), {"only": "success"})
    values: list[tuple[str, str, str, int, str, Any]] = [
        (DAG_ID, mine, "random-task", -1, "return_value", "heads"),
        (DAG_ID, mine, "random-task", -1, "stats", {"rows": 3, "ok": True}),
        (DAG_ID, mine, "random-task", -1, "nothing", None),
        (DAG_ID, mine, "random-task", -1, "path/like/key", [1, 2]),
        (DAG_ID, mine, "random-task", 0, "return_value", "mapped"),
        (DAG_ID, mine, "start", -1, "k", 1.5),
        ("other", other, "only", -1, "return_value", "x"),
    ]
    with transaction(session_factory) as session:
        session.add(
            TaskInstanceRow(
                dag_id=DAG_ID, run_id=mine, task_id="random-task", map_index=0, state="success"
            )
        )
        session.flush()
        for dag_id, run_id, task_id, map_index, key, value in values:
            session.add(
                XComRow(
                    dag_id=dag_id,
                    run_id=run_id,
                    task_id=task_id,
                    map_index=map_index,
                    key=key,
                    value=value,
                )
            )
    return Runs(mine, other)


def _listed(response: httpx.Response) -> list[tuple[str, str, int, str]]:
    assert response.status_code == 200, response.text
    return [
        (entry["dag_id"], entry["task_id"], entry["map_index"], entry["key"])
        for entry in response.json()["xcom_entries"]
    ]


def test_entries_of_one_task_instance_without_values(client: httpx.Client, runs: Runs) -> None:
    response = client.get(runs.entries())

    assert _listed(response) == [
        (DAG_ID, "random-task", -1, "nothing"),
        (DAG_ID, "random-task", -1, "path/like/key"),
        (DAG_ID, "random-task", -1, "return_value"),
        (DAG_ID, "random-task", 0, "return_value"),
        (DAG_ID, "random-task", -1, "stats"),
    ]
    body = response.json()
    assert body["total_entries"] == 5
    first = body["xcom_entries"][0]
    assert set(first) == {"key", "timestamp", "execution_date", "map_index", "task_id", "dag_id"}
    assert datetime.fromisoformat(first["execution_date"]) == at("2024-05-01T00:00:00Z")
    assert datetime.fromisoformat(first["timestamp"]).tzinfo is not None


def test_tilde_lists_across_dags_runs_and_tasks(client: httpx.Client, runs: Runs) -> None:
    everything = client.get(EVERYWHERE)
    assert everything.json()["total_entries"] == 7
    # Ordered by the runs' logical dates first: other's run is a month earlier.
    assert _listed(everything)[0] == ("other", "only", -1, "return_value")

    page = client.get(EVERYWHERE, params={"limit": 2, "offset": 1})
    assert _listed(page) == _listed(everything)[1:3]
    assert page.json()["total_entries"] == 7

    by_key = client.get(EVERYWHERE, params={"xcom_key": "return_value"})
    assert [task for _, task, _, _ in _listed(by_key)] == ["only", "random-task", "random-task"]
    by_index = client.get(EVERYWHERE, params={"map_index": 0})
    assert _listed(by_index) == [(DAG_ID, "random-task", 0, "return_value")]
    of_run = client.get(f"/dags/{DAG_ID}/dagRuns/{runs.mine}/taskInstances/~/xcomEntries")
    assert of_run.json()["total_entries"] == 6
    assert client.get(runs.entries("end")).json() == {"xcom_entries": [], "total_entries": 0}


def test_one_entry_shows_its_value_as_airflow_does(client: httpx.Client, runs: Runs) -> None:
    def value(key: str, task_id: str = "random-task", **params: Any) -> Any:
        response = client.get(f"{runs.entries(task_id)}/{key}", params=params)
        assert response.status_code == 200, response.text
        return response.json()["value"]

    # Python's text of the value; PostgreSQL's JSONB keeps no key order, hence the parse.
    assert ast.literal_eval(value("stats")) == {"rows": 3, "ok": True}
    assert value("stats", stringify=False) == {"rows": 3, "ok": True}
    assert value("stats", deserialize=True, stringify="false") == {"rows": 3, "ok": True}
    assert value("return_value") == "heads"
    assert value("return_value", map_index=0) == "mapped"
    assert value("nothing") is None
    assert value("path/like/key") == "[1, 2]"
    assert value("k", task_id="start") == "1.5"
    assert value("k", task_id="start", stringify=False) == 1.5

    entry = client.get(f"{runs.entries()}/stats").json()
    assert entry["key"] == "stats" and entry["map_index"] == -1 and entry["dag_id"] == DAG_ID


def test_missing_entries_are_404s_and_bad_parameters_400s(client: httpx.Client, runs: Runs) -> None:
    for url in (
        f"{runs.entries()}/nope",
        f"{runs.entries()}/stats?map_index=3",
        f"/dags/{DAG_ID}/dagRuns/nope/taskInstances/random-task/xcomEntries/stats",
        f"/dags/nope/dagRuns/{runs.mine}/taskInstances/random-task/xcomEntries/stats",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["detail"] == "XCom entry not found"

    assert client.get(runs.entries(), params={"map_index": "first"}).status_code == 400
    assert client.get(runs.entries(), params={"limit": -1}).status_code == 400
    assert client.get(f"{runs.entries()}/stats", params={"stringify": "maybe"}).status_code == 400


def test_reading_xcoms_needs_xcoms_and_the_dag(
    client_as: Callable[[str], httpx.Client], runs: Runs, session_factory: Factory
) -> None:
    assert client_as("viewer").get(f"{runs.entries()}/stats").status_code == 200
    public = client_as("public")
    assert public.get(EVERYWHERE).status_code == 403
    assert public.get(f"{runs.entries()}/stats").status_code == 403

    add_user_with(session_factory, "other-only", [(READ, XCOM), (READ, "DAG:other")])
    narrow = client_as("other-only")
    assert _listed(narrow.get(EVERYWHERE)) == [("other", "only", -1, "return_value")]
    assert narrow.get(runs.entries()).status_code == 403
    assert narrow.get(f"{runs.entries()}/stats").status_code == 403
    own = f"/dags/other/dagRuns/{runs.other}/taskInstances/only/xcomEntries/return_value"
    assert narrow.get(own).json()["value"] == "x"
