"""Listing DAG runs through real HTTP: filters, order, pages, ``~`` for every readable DAG,
and the batch form ``POST /dags/~/dagRuns/list``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from dag_run_support import add_dags, start_run
from grants_support import add_user_with
from sqlalchemy.engine import Engine
from task_action_support import AddDagFile, Factory

from tradewind.api.schemas.dag_run import DAGRunCollection
from tradewind.security.permissions import DAG_RUN, READ
from tradewind.storage.engine import transaction
from tradewind.storage.tables import DagRunRow


@pytest.fixture(autouse=True)
def _runs(add_dag_file: AddDagFile, client: httpx.Client, session_factory: Factory) -> None:
    """tuned: t1 (Jan 1, success), t2 (Jan 2, failed), t3 (Jan 3, queued);
    random_failures: f1 (Jan 2, running)."""
    add_dags(add_dag_file)
    for dag_id, run_id, day in (("tuned", "t1", 1), ("tuned", "t2", 2), ("tuned", "t3", 3)) + (
        ("random_failures", "f1", 2),
    ):
        body = {"dag_run_id": run_id, "logical_date": f"2024-01-0{day}T00:00:00Z"}
        assert client.post(f"/dags/{dag_id}/dagRuns", json=body).status_code == 200
    start_run(session_factory, "tuned", "t1", {}, run_state="success")
    start_run(session_factory, "tuned", "t2", {}, run_state="failed")
    start_run(session_factory, "random_failures", "f1", {})


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [run["dag_run_id"] for run in response.json()["dag_runs"]]


def test_filters(client: httpx.Client) -> None:
    runs = "/dags/tuned/dagRuns"
    assert _ids(client.get(runs)) == ["t1", "t2", "t3"]
    assert _ids(client.get(runs, params=[("state", "success"), ("state", "queued")])) == [
        "t1",
        "t3",
    ]
    assert _ids(client.get(runs, params={"state": "failed"})) == ["t2"]
    dates = {"execution_date_gte": "2024-01-02T00:00:00Z", "execution_date_lte": "2024-01-02"}
    assert _ids(client.get(runs, params=dates)) == ["t2"]
    # An unescaped "+" of an offset arrives as a space; Airflow reads it back.
    assert _ids(client.get(f"{runs}?execution_date_gte=2024-01-02T01:00:00+01:00")) == [
        "t2",
        "t3",
    ]
    assert _ids(client.get(runs, params={"start_date_gte": "2020-01-01T00:00:00Z"})) == [
        "t1",
        "t2",
    ]
    assert _ids(client.get(runs, params={"end_date_lte": "2000-01-01T00:00:00Z"})) == []
    assert _ids(client.get(runs, params={"updated_at_gte": "2000-01-01T00:00:00Z"})) == [
        "t1",
        "t2",
        "t3",
    ]
    bad = client.get(runs, params={"start_date_gte": "soon"})
    assert bad.status_code == 400 and "Incorrect datetime argument" in bad.json()["detail"]


def test_list_body_is_the_models_json_byte_for_byte(
    client: httpx.Client, session_factory: Factory
) -> None:
    """The lists write plain dicts (``api/list_bodies.py``), ``DAGRun`` is the documented
    shape: the bytes must be the model's, whatever the values (text to escape, nested
    and non-object ``conf``, times with and without microseconds, nulls)."""
    stamp = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    with transaction(session_factory) as session:
        for number, conf in enumerate(({"a": [1, 2.5, None, 'ü "q" \\']}, None, [1])):
            session.add(
                DagRunRow(
                    dag_id="tuned",
                    run_id=f"odd {number} ☃\n",
                    run_type="manual",
                    logical_date=stamp + timedelta(days=30 + number),
                    data_interval_start=stamp,
                    data_interval_end=None,
                    state="running",
                    conf=conf,
                    start_date=stamp.replace(microsecond=0),
                    last_scheduling_decision=stamp,
                    external_trigger=bool(number % 2),
                    note="a\tnote \u2028" if number else None,
                )
            )
    with transaction(session_factory) as session:
        rows = session.scalars(sa.select(DagRunRow).order_by(DagRunRow.id)).all()
        expected = DAGRunCollection.from_rows(rows, len(rows)).model_dump_json().encode()
    listed = client.get("/dags/~/dagRuns", params={"order_by": "id"})
    assert listed.status_code == 200 and listed.content == expected
    batch = client.post("/dags/~/dagRuns/list", json={"order_by": "id"})
    assert batch.status_code == 200 and batch.content == expected


def test_order_pages_and_fields(client: httpx.Client) -> None:
    page = client.get(
        "/dags/~/dagRuns", params={"order_by": "-execution_date", "limit": 2, "offset": 1}
    )
    assert _ids(page) == ["t2", "f1"]  # ties in id order
    assert page.json()["total_entries"] == 4
    assert _ids(client.get("/dags/~/dagRuns", params={"order_by": "dag_run_id"})) == [
        "f1",
        "t1",
        "t2",
        "t3",
    ]
    bad = client.get("/dags/~/dagRuns", params={"order_by": "conf"})
    assert bad.status_code == 400
    assert bad.json()["detail"] == (
        "Ordering with 'conf' is disallowed or the attribute does not exist on the model"
    )

    narrow = client.get("/dags/tuned/dagRuns", params={"fields": ["dag_run_id", "state"]})
    assert narrow.json() == {
        "dag_runs": [
            {"dag_run_id": "t1", "state": "success"},
            {"dag_run_id": "t2", "state": "failed"},
            {"dag_run_id": "t3", "state": "queued"},
        ],
        "total_entries": 3,
    }
    assert client.get("/dags/tuned/dagRuns", params={"fields": "nope"}).status_code == 400
    assert client.get("/dags/nope/dagRuns").json() == {"dag_runs": [], "total_entries": 0}


def test_every_dag_means_every_readable_dag(
    client: httpx.Client, client_as: Callable[[str], httpx.Client], session_factory: Factory
) -> None:
    add_user_with(session_factory, "tuner", [(READ, "DAG:tuned"), (READ, DAG_RUN)])
    tuner = client_as("tuner")

    assert _ids(tuner.get("/dags/~/dagRuns")) == ["t1", "t2", "t3"]
    assert tuner.get("/dags/random_failures/dagRuns").status_code == 403
    assert tuner.get("/dags/random_failures/dagRuns/f1").status_code == 403
    batch = tuner.post("/dags/~/dagRuns/list", json={"dag_ids": ["random_failures", "tuned"]})
    assert _ids(batch) == ["t1", "t2", "t3"]
    assert client_as("public").get("/dags/~/dagRuns").status_code == 403
    assert client_as("public").post("/dags/~/dagRuns/list", json={}).status_code == 403


def test_batch_list(client: httpx.Client) -> None:
    batch = "/dags/~/dagRuns/list"
    assert _ids(client.post(batch, json={})) == ["t1", "t2", "t3", "f1"]
    body = {
        "dag_ids": ["tuned", "random_failures"],
        "states": ["failed", "running"],
        "order_by": "-dag_id",
    }
    assert _ids(client.post(batch, json=body)) == ["t2", "f1"]
    paged = client.post(batch, json={"page_limit": 1, "page_offset": 1, "order_by": "id"})
    assert _ids(paged) == ["t2"] and paged.json()["total_entries"] == 4
    window = {
        "execution_date_gte": "2024-01-02T00:00:00Z",
        "execution_date_lte": "2024-01-02T00:00:00Z",
        "start_date_gte": "2000-01-01T00:00:00Z",
        "end_date_lte": "2100-01-01T00:00:00Z",
    }
    assert _ids(client.post(batch, json=window)) == ["t2"]
    assert _ids(client.post(batch, json={"dag_ids": ["nope"]})) == []

    for bad in (
        {"page_limit": 0},
        {"page_offset": -1},
        {"page_offset": 2**64},
        {"dag_ids": "tuned"},
        {"limit": 5},
    ):
        response = client.post(batch, json=bad)
        assert response.status_code == 400, bad
    assert client.post(batch, json={"order_by": "colour"}).status_code == 400


def test_list_queries_are_bounded(
    client: httpx.Client, session_factory: Factory, engine: Engine
) -> None:
    """A page of runs costs the same few statements whatever its size: no query per run."""
    with transaction(session_factory) as session:
        for day in range(50):
            session.add(
                DagRunRow(
                    dag_id="tuned",
                    run_id=f"bulk-{day:02d}",
                    run_type="scheduled",
                    logical_date=datetime(2023, 1, 1, tzinfo=UTC) + timedelta(days=day),
                    state="success",
                    conf=None,
                    external_trigger=False,
                )
            )
    client.get("/dags/~/dagRuns", params={"limit": 1})  # authenticated and cached

    counts = []
    for limit in (2, 100):
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            response = client.get("/dags/~/dagRuns", params={"limit": limit})
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        assert len(response.json()["dag_runs"]) == min(limit, 54)
        counts.append(len([s for s in statements if "dag_run" in s]))
    # Whatever the page size: the page, and a count(*) when the page is full.
    assert counts == [2, 1]
    assert response.json()["dag_runs"][0]["conf"] == {}
