"""``.../taskInstances`` through real HTTP: reading, listing, filtering, patching the
state of and annotating task instances, and the mapped variants of each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from task_instance_support import AddDagFile, add_dags, add_user_with, make_run

from tradewind.security.permissions import READ, TASK_INSTANCE
from tradewind.storage.engine import transaction
from tradewind.storage.repositories.task_instances import require_task_instance
from tradewind.storage.tables import TriggerRow

ClientAs = Callable[[str], httpx.Client]
Factory = sessionmaker[Session]
SPEC = Path(__file__).parents[2] / ".." / "shared" / "reference" / "airflow-v1.yaml"


@pytest.fixture
def run_id(add_dag_file: AddDagFile, session_factory: Factory, api_server: object) -> str:
    """``etl`` and ``other`` stored; one ``etl`` run whose extract succeeded and whose
    transform failed on its first try."""
    add_dags(add_dag_file, session_factory)
    return make_run(session_factory, states={"extract": ("success", 1), "transform": ("failed", 1)})


def tis_url(run_id: str, dag_id: str = "etl") -> str:
    return f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances"


def spec_properties(component: str) -> set[str]:
    document = yaml.safe_load(SPEC.resolve().read_text())
    return set(document["components"]["schemas"][component]["properties"])


def test_get_task_instance(client: httpx.Client, run_id: str) -> None:
    response = client.get(f"{tis_url(run_id)}/extract")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == spec_properties("TaskInstance")
    assert body == {
        "task_id": "extract",
        "task_display_name": "Extract rows",
        "dag_id": "etl",
        "dag_run_id": run_id,
        "execution_date": "2024-06-01T12:00:00Z",
        "start_date": "2024-06-01T12:00:00Z",
        "end_date": "2024-06-01T12:01:00Z",
        "duration": 60.0,
        "state": "success",
        "try_number": 1,
        "map_index": -1,
        "max_tries": 2,
        "hostname": "worker-1",
        "unixname": "tradewind",
        "pool": "default_pool",
        "pool_slots": 1,
        "queue": "default",
        "priority_weight": 4,
        "operator": "EmptyOperator",
        "queued_when": None,
        "pid": 4242,
        "executor": None,
        "executor_config": "{}",
        "sla_miss": None,
        "rendered_map_index": None,
        "rendered_fields": {},
        "trigger": None,
        "triggerer_job": None,
        "note": None,
    }
    # Never run: non-nullable strings are empty, not null.
    fresh = client.get(f"{tis_url(run_id)}/load").json()
    assert (fresh["state"], fresh["hostname"], fresh["unixname"]) == (None, "", "")
    assert fresh["task_display_name"] == "load"


def test_missing_task_instance_is_a_404(client: httpx.Client, run_id: str) -> None:
    missing = client.get(f"{tis_url(run_id)}/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "nope" in missing.json()["detail"]
    assert client.get(f"{tis_url('no_run')}/extract").status_code == 404
    assert client.get(f"{tis_url(run_id, 'no_dag')}/extract").status_code == 404


def test_list_task_instances_of_a_run(client: httpx.Client, run_id: str) -> None:
    listed = client.get(tis_url(run_id)).json()
    assert listed["total_entries"] == 4
    assert [ti["task_id"] for ti in listed["task_instances"]] == [
        "extract",
        "transform",
        "load",
        "report",
    ]
    assert {ti["execution_date"] for ti in listed["task_instances"]} == {"2024-06-01T12:00:00Z"}

    # NULL states sort first or last depending on the database: leave them out here.
    states = ["success", "failed"]
    params = {"order_by": "-state", "state": states, "limit": 1, "offset": 1}
    page = client.get(tis_url(run_id), params=params)
    assert page.status_code == 200, page.text
    assert page.json()["total_entries"] == 2
    assert [ti["state"] for ti in page.json()["task_instances"]] == ["failed"]


def test_list_filters(client: httpx.Client, run_id: str, session_factory: Factory) -> None:
    def task_ids(**params: Any) -> list[str]:
        response = client.get(tis_url(run_id), params=params)
        assert response.status_code == 200, response.text
        return [ti["task_id"] for ti in response.json()["task_instances"]]

    assert task_ids(state=["success", "failed"]) == ["extract", "transform"]
    assert task_ids(state="none") == ["load", "report"]
    assert task_ids(queue="reports") == ["report"]
    assert task_ids(pool=["default_pool"]) == ["extract", "transform", "load", "report"]
    assert task_ids(pool="elsewhere") == []
    assert task_ids(duration_gte=60, duration_lte=60.5, state="success") == ["extract"]
    assert task_ids(start_date_gte="2024-06-01T12:00:00+00:00") == ["extract", "transform"]
    assert task_ids(end_date_lte="2024-06-01T11:00:00Z") == []
    assert task_ids(execution_date_gte="2024-06-01T12:00:00Z") == [
        "extract",
        "transform",
        "load",
        "report",
    ]
    assert task_ids(execution_date_lte="2024-05-31T00:00:00") == []  # naive: UTC
    assert task_ids(updated_at_gte="2000-01-01T00:00:00Z", state="failed") == ["transform"]
    with transaction(session_factory) as session:
        require_task_instance(session, "etl", run_id, "report").executor = "LocalExecutor"
    assert task_ids(executor="LocalExecutor") == ["report"]

    # An unencoded "+" arrives as a space; it is read back as "+".
    raw = client.get(f"{tis_url(run_id)}?start_date_gte=2024-06-01T12:00:00+00:00")
    assert raw.status_code == 200 and raw.json()["total_entries"] == 2


def test_list_bad_input_is_a_400(client: httpx.Client, run_id: str) -> None:
    for params in (
        {"order_by": "colour"},
        {"state": "sleeping"},
        {"start_date_gte": "yesterday"},
        {"duration_gte": "long"},
        {"limit": -1},
    ):
        response = client.get(tis_url(run_id), params=params)
        assert response.status_code == 400, (params, response.text)


def test_list_across_dags_and_runs(
    client: httpx.Client, client_as: ClientAs, run_id: str, session_factory: Factory
) -> None:
    make_run(session_factory, "other", day=2, states={"only": ("success", 1)})
    make_run(session_factory, day=1)
    everything = client.get(tis_url("~", "~")).json()
    assert everything["total_entries"] == 9
    in_run = client.get(tis_url(run_id, "~")).json()
    assert in_run["total_entries"] == 4
    of_etl = client.get(tis_url("~", "etl"), params={"state": "success"}).json()
    assert [ti["task_id"] for ti in of_etl["task_instances"]] == ["extract"]

    # A user who may read only ``etl`` sees only its task instances across DAGs.
    add_user_with(session_factory, "etl_reader", [(READ, TASK_INSTANCE), (READ, "DAG:etl")])
    reader = client_as("etl_reader")
    listed = reader.get(tis_url("~", "~")).json()
    assert listed["total_entries"] == 8
    assert {ti["dag_id"] for ti in listed["task_instances"]} == {"etl"}
    assert reader.get(tis_url("~", "other")).status_code == 403
    assert reader.get(f"{tis_url(run_id)}/extract").status_code == 200
    assert client_as("public").get(tis_url("~", "~")).status_code == 403


def test_batch_list(client: httpx.Client, client_as: ClientAs, run_id: str) -> None:
    url = "/dags/~/dagRuns/~/taskInstances/list"
    found = client.post(url, json={"dag_ids": ["etl"], "state": ["failed", None]})
    assert found.status_code == 200, found.text
    assert [ti["task_id"] for ti in found.json()["task_instances"]] == [
        "transform",
        "load",
        "report",
    ]
    page = client.post(
        url,
        json={
            "dag_run_ids": [run_id],
            "task_ids": ["extract", "load", "report"],
            "order_by": "-start_date",
            "page_limit": 1,
            "page_offset": 0,
            "execution_date_gte": "2024-06-01T00:00:00Z",
            "duration_gte": 0,
        },
    ).json()
    assert page["total_entries"] == 1
    assert [ti["task_id"] for ti in page["task_instances"]] == ["extract"]
    assert client.post(url, json={"queue": ["reports"]}).json()["total_entries"] == 1

    for bad in ({"page_limit": 0}, {"state": ["sleeping"]}, {"colour": "red"}):
        assert client.post(url, json=bad).status_code == 400, bad
    assert client.post(url, json={"order_by": "colour"}).status_code == 400
    assert client_as("public").post(url, json={}).status_code == 403


def test_batch_list_refuses_unreadable_dags(
    client_as: ClientAs, run_id: str, session_factory: Factory
) -> None:
    add_user_with(session_factory, "etl_reader", [(READ, TASK_INSTANCE), (READ, "DAG:etl")])
    reader = client_as("etl_reader")
    url = "/dags/~/dagRuns/~/taskInstances/list"
    refused = reader.post(url, json={"dag_ids": ["etl", "other"]})
    assert refused.status_code == 403 and "other" in refused.json()["detail"]
    assert reader.post(url, json={}).json()["total_entries"] == 4


def test_patch_task_instance(client: httpx.Client, run_id: str, session_factory: Factory) -> None:
    url = f"{tis_url(run_id)}/transform"
    reference = {
        "task_id": "transform",
        "dag_id": "etl",
        "execution_date": "2024-06-01T12:00:00Z",
        "dag_run_id": run_id,
    }
    dry = client.patch(url, json={"new_state": "success"})
    assert dry.status_code == 200, dry.text
    assert dry.json() == reference
    assert client.get(url).json()["state"] == "failed"

    done = client.patch(url, json={"new_state": "success", "dry_run": False})
    assert done.status_code == 200, done.text
    assert done.json() == reference
    assert client.get(url).json()["state"] == "success"
    events = client.get("/eventLogs", params={"event": "api.patch_task_instance"})
    if events.status_code == 200:  # the event log endpoint is another helper's
        assert events.json()["total_entries"] >= 1

    skipped = client.patch(
        f"{tis_url(run_id)}/load", json={"new_state": "skipped", "dry_run": False}
    )
    assert skipped.status_code == 200
    with transaction(session_factory) as session:
        assert require_task_instance(session, "etl", run_id, "load").state == "skipped"


def test_patch_task_instance_refusals(
    client: httpx.Client, client_as: ClientAs, run_id: str
) -> None:
    url = f"{tis_url(run_id)}/transform"
    for bad in ({"new_state": "running"}, {}, {"new_state": "success", "dry_run": "no"}):
        assert client.patch(url, json=bad).status_code == 400, bad
    assert client.patch(f"{tis_url(run_id)}/nope", json={"new_state": "failed"}).status_code == 404
    missing_run = client.patch(f"{tis_url('no_run')}/transform", json={"new_state": "failed"})
    assert missing_run.status_code == 404
    viewer = client_as("viewer")
    assert viewer.patch(url, json={"new_state": "success"}).status_code == 403
    assert client_as("user").patch(url, json={"new_state": "success"}).status_code == 200


def test_set_note(client: httpx.Client, client_as: ClientAs, run_id: str) -> None:
    url = f"{tis_url(run_id)}/transform/setNote"
    noted = client.patch(url, json={"note": "flaky upstream API"})
    assert noted.status_code == 200, noted.text
    assert set(noted.json()) == spec_properties("TaskInstance")
    assert noted.json()["note"] == "flaky upstream API"
    assert client.get(f"{tis_url(run_id)}/transform").json()["note"] == "flaky upstream API"
    assert client.patch(url, json={"note": None}).json()["note"] is None

    assert client.patch(url, json={}).status_code == 400
    assert client.patch(url, json={"note": "x" * 1001}).status_code == 400
    assert client.patch(url, json={"note": 3}).status_code == 400
    missing = client.patch(f"{tis_url(run_id)}/nope/setNote", json={"note": "x"})
    assert missing.status_code == 404
    assert client_as("viewer").patch(url, json={"note": "x"}).status_code == 403


def test_mapped_routes(client: httpx.Client, run_id: str) -> None:
    """No task is mapped yet: map index routes find nothing, listMapped says why."""
    base = tis_url(run_id)
    mapped_get = client.get(f"{base}/extract/0")
    assert mapped_get.status_code == 404
    assert mapped_get.json()["detail"].endswith(
        f"(map index 0) not found in DAGRun '{run_id}' of DAG 'etl'"
    )
    assert client.patch(f"{base}/extract/0", json={"new_state": "failed"}).status_code == 404
    assert client.patch(f"{base}/extract/0/setNote", json={"note": "x"}).status_code == 404
    # -1 and non-numbers are no map index: no route, as in Airflow.
    assert client.get(f"{base}/extract/-1").status_code == 404
    assert client.get(f"{base}/extract/abc").status_code == 404

    not_mapped = client.get(f"{base}/extract/listMapped")
    assert not_mapped.status_code == 404
    assert not_mapped.json()["detail"] == "Task id extract is not mapped"
    assert client.get(f"{base}/nope/listMapped").json()["detail"] == "Task id nope not found"
    missing_dag = client.get(f"{tis_url(run_id, 'nope')}/extract/listMapped")
    assert missing_dag.json()["detail"] == "DAG nope not found"


def test_literal_segments_are_not_map_indexes(client: httpx.Client, run_id: str) -> None:
    base = f"{tis_url(run_id)}/extract"
    assert client.get(f"{base}/links").json() == {}
    assert client.get(f"{base}/dependencies").json() == {"dependencies": []}
    assert client.get(f"{base}/tries").json()["total_entries"] == 1
    assert client.get(f"{base}/tries/1").json()["try_number"] == 1
    assert client.patch(f"{base}/setNote", json={"note": "n"}).json()["note"] == "n"
    # Another router's literal is never taken for a map index by this one.
    assert "map index" not in client.get(f"{base}/xcomEntries").text


def test_extra_links(client: httpx.Client, client_as: ClientAs, run_id: str) -> None:
    url = f"{tis_url(run_id)}/report/links"
    assert client.get(url).json() == {}  # no built-in operator has extra links
    assert client.get(url, params={"map_index": 0}).status_code == 404
    assert client.get(f"{tis_url(run_id)}/nope/links").status_code == 404
    assert client.get(url, params={"map_index": "first"}).status_code == 400
    assert client_as("viewer").get(url).status_code == 200
    assert client_as("public").get(url).status_code == 403


def test_a_list_costs_the_same_queries_whatever_its_length(
    client: httpx.Client, run_id: str, session_factory: Factory, engine: Engine
) -> None:
    for day in range(1, 6):
        make_run(session_factory, day=day, states={"extract": ("success", 1)})
    with transaction(session_factory) as session:
        trigger = TriggerRow(classpath="tradewind.triggers.Sleep", kwargs={"secret": "s3cr3t"})
        session.add(trigger)
        session.flush()
        require_task_instance(session, "etl", run_id, "report").trigger_id = trigger.id
    client.get(tis_url("~", "~"), params={"limit": 1})  # authenticated and cached

    counts = []
    for limit in (2, 100):
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            response = client.get(tis_url("~", "~"), params={"limit": limit})
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        assert len(response.json()["task_instances"]) == min(limit, 24)
        mine = ("task_instance", "dag_run", "trigger", "job")
        counts.append(len([s for s in statements if any(table in s for table in mine)]))
    assert counts[0] <= counts[1] <= 4  # count, page, runs, triggers (+ jobs), no more
    report = client.get(f"{tis_url(run_id)}/report").json()
    assert report["trigger"]["classpath"] == "tradewind.triggers.Sleep"
    assert "s3cr3t" not in report["trigger"]["kwargs"]
