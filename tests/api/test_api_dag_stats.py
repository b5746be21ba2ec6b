"""``/dagStats`` through real HTTP: runs per state of the DAGs asked for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from dag_support import AddDagFile, add_dags
from grants_support import add_user_with
from sqlalchemy.orm import Session, sessionmaker

from tradewind.security.permissions import DAG_RUN, READ
from tradewind.services.dag_runs import trigger_dag_run
from tradewind.storage.engine import transaction

Factory = sessionmaker[Session]


@pytest.fixture
def runs(add_dag_file: AddDagFile, session_factory: Factory) -> None:
    """etl: 2 success, 1 failed, 1 queued; reports: 1 running; adhoc: none."""
    add_dags(add_dag_file)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    states = [("etl", "success"), ("etl", "success"), ("etl", "failed"), ("etl", "queued")]
    states.append(("reports", "running"))
    with transaction(session_factory) as session:
        for day, (dag_id, state) in enumerate(states):
            run = trigger_dag_run(
                session, dag_id, now=start, logical_date=start + timedelta(days=day)
            )
            run.state = state


def counts(item: dict[str, object]) -> dict[str, int]:
    stats = item["stats"]
    assert isinstance(stats, list)
    return {stat["state"]: stat["count"] for stat in stats}


@pytest.mark.usefixtures("runs")
def test_dag_stats_count_every_state(client: httpx.Client) -> None:
    response = client.get("/dagStats", params={"dag_ids": "etl,reports,adhoc,nope,etl"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_entries"] == 3
    assert [item["dag_id"] for item in body["dags"]] == ["etl", "reports", "adhoc"]
    assert body["dags"][0]["stats"] == [
        {"state": "queued", "count": 1},
        {"state": "running", "count": 0},
        {"state": "success", "count": 2},
        {"state": "failed", "count": 1},
    ]
    assert counts(body["dags"][1]) == {"queued": 0, "running": 1, "success": 0, "failed": 0}
    assert set(counts(body["dags"][2]).values()) == {0}


@pytest.mark.usefixtures("runs")
def test_dag_ids_is_required(client: httpx.Client) -> None:
    missing = client.get("/dagStats")
    assert missing.status_code == 400 and "dag_ids" in missing.json()["detail"]
    assert client.get("/dagStats", params={"dag_ids": ""}).json() == {
        "dags": [],
        "total_entries": 0,
    }


@pytest.mark.usefixtures("runs")
def test_dag_stats_permissions(
    client_as: Callable[[str], httpx.Client], session_factory: Factory
) -> None:
    assert client_as("viewer").get("/dagStats", params={"dag_ids": "etl"}).status_code == 200
    assert client_as("public").get("/dagStats", params={"dag_ids": "etl"}).status_code == 403

    add_user_with(session_factory, "etl_watcher", [(READ, "DAG:etl"), (READ, DAG_RUN)])
    watched = client_as("etl_watcher").get("/dagStats", params={"dag_ids": "etl,reports"})
    assert [item["dag_id"] for item in watched.json()["dags"]] == ["etl"]
