"""``/datasets`` through real HTTP: datasets and their references, events (created by
the API and by the scheduler's runs), queued events, URIs with slashes, permissions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import airflow_client.client as airflow_client
import httpx
import pytest
import sqlalchemy as sa
from airflow_client.client.api.dataset_api import DatasetApi
from airflow_client.client.model.create_dataset_event import CreateDatasetEvent
from api_support import PASSWORD, PASSWORD_HASH, LiveServer, make_client
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings
from tradewind.dag_processing.processor import collect_dags
from tradewind.executors.inline import InlineExecutor
from tradewind.scheduler.loop import Scheduler
from tradewind.security.permissions import DATASET, READ, ensure_permissions
from tradewind.security.users import ensure_role
from tradewind.storage.engine import transaction
from tradewind.storage.tables import DagRow, DagRunRow, LogRow, UserRow

RAW = "s3://bucket/a/b.csv"
OTHER = "s3://bucket/other"

DAGS = f'''
from datetime import datetime
from tradewind import DAG, Dataset
from tradewind.operators.empty import EmptyOperator

RAW = Dataset("{RAW}")
OTHER = Dataset("{OTHER}")

with DAG("producer", schedule=None, start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="extract", outlets=[RAW])

with DAG(
    "consumer",
    schedule=[RAW, OTHER],
    start_date=datetime(2024, 1, 1),
    is_paused_upon_creation=False,
):
    EmptyOperator(task_id="load")
'''


def encoded(uri: str) -> str:
    """A URI as clients put it in a path segment: every reserved character escaped."""
    return quote(uri, safe="")


@pytest.fixture
def dags(add_dag_file: Callable[[str, str], None]) -> None:
    add_dag_file("datasets.py", DAGS)


def test_get_datasets_with_references_filters_and_order(client: httpx.Client, dags: None) -> None:
    listed = client.get("/datasets")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total_entries"] == 2
    raw, other = body["datasets"]
    assert (raw["uri"], other["uri"]) == (RAW, OTHER)
    assert raw["id"] < other["id"]
    assert set(raw) == {
        "id",
        "uri",
        "extra",
        "created_at",
        "updated_at",
        "consuming_dags",
        "producing_tasks",
    }
    assert [ref["dag_id"] for ref in raw["consuming_dags"]] == ["consumer"]
    assert [(ref["dag_id"], ref["task_id"]) for ref in raw["producing_tasks"]] == [
        ("producer", "extract")
    ]
    assert other["producing_tasks"] == []
    assert set(raw["consuming_dags"][0]) == {"dag_id", "created_at", "updated_at"}

    def uris(**params: str | int) -> list[str]:
        page = client.get("/datasets", params=params)
        assert page.status_code == 200, page.text
        return [dataset["uri"] for dataset in page.json()["datasets"]]

    assert uris(uri_pattern="OTHER") == [OTHER]  # case-insensitive substring
    assert uris(uri_pattern="%") == []  # a literal character, not a wildcard
    assert uris(dag_ids="producer") == [RAW]
    assert uris(dag_ids="consumer,producer") == [RAW, OTHER]
    assert uris(dag_ids="nobody") == []
    assert uris(order_by="-uri") == [OTHER, RAW]
    assert uris(order_by="-id", limit=1) == [OTHER]
    assert uris(limit=1, offset=1) == [OTHER]
    filtered = client.get("/datasets", params={"dag_ids": "producer"}).json()
    assert filtered["total_entries"] == 1

    bad = client.get("/datasets", params={"order_by": "extra"})
    assert bad.status_code == 400 and "extra" in bad.json()["detail"]
    assert client.get("/datasets", params={"limit": "many"}).status_code == 400


def test_get_dataset_by_percent_encoded_uri(client: httpx.Client, dags: None) -> None:
    found = client.get(f"/datasets/{encoded(RAW)}")
    assert found.status_code == 200, found.text
    assert found.json()["uri"] == RAW
    assert found.json()["consuming_dags"][0]["dag_id"] == "consumer"

    # Unencoded, and with the '//' merged as path-normalising clients and proxies do.
    assert client.get(f"/datasets/{RAW}").json()["uri"] == RAW
    assert client.get("/datasets/s3:/bucket/a/b.csv").json()["uri"] == RAW

    missing = client.get(f"/datasets/{encoded('s3://bucket/a/missing.csv')}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["detail"] == (
        "The Dataset with uri: `s3://bucket/a/missing.csv` was not found"
    )


def test_create_dataset_event_queues_the_consumer(
    client: httpx.Client, dags: None, session_factory: sessionmaker[Session]
) -> None:
    before_any = datetime.now(UTC) - timedelta(seconds=1)
    created = client.post("/datasets/events", json={"dataset_uri": RAW, "extra": {"rows": 3}})
    assert created.status_code == 200, created.text
    event = created.json()
    assert event["dataset_uri"] == RAW
    assert event["extra"] == {"rows": 3, "from_rest_api": True}
    assert (event["source_dag_id"], event["source_task_id"], event["source_run_id"]) == (
        None,
        None,
        None,
    )
    assert event["source_map_index"] == -1
    assert event["created_dagruns"] == []
    assert isinstance(event["id"], int) and isinstance(event["dataset_id"], int)

    listed = client.get("/datasets/events").json()
    assert listed["total_entries"] == 1
    assert listed["dataset_events"] == [event]
    assert (
        client.get("/datasets/events", params={"dataset_id": event["dataset_id"]}).json()[
            "total_entries"
        ]
        == 1
    )
    huge = client.get("/datasets/events", params={"dataset_id": 2**70})
    assert huge.status_code == 400, huge.text
    assert client.get("/datasets/events", params={"source_dag_id": "producer"}).json() == {
        "dataset_events": [],
        "total_entries": 0,
    }

    queued = client.get("/dags/consumer/datasets/queuedEvent")
    assert queued.status_code == 200, queued.text
    items = queued.json()["datasets"]
    assert [(item["uri"], item["dag_id"]) for item in items] == [(RAW, "consumer")]
    assert queued.json()["queued_events"] == items and queued.json()["total_entries"] == 1

    one = client.get(f"/dags/consumer/datasets/queuedEvent/{encoded(RAW)}")
    assert one.status_code == 200 and one.json() == items[0]
    merged = client.get("/dags/consumer/datasets/queuedEvent/s3:/bucket/a/b.csv")
    assert merged.status_code == 200 and merged.json() == items[0]
    by_dataset = client.get(f"/datasets/queuedEvent/{encoded(RAW)}")
    assert by_dataset.status_code == 200 and by_dataset.json()["datasets"] == items

    earlier = {"before": before_any.isoformat()}
    assert client.get("/dags/consumer/datasets/queuedEvent", params=earlier).status_code == 404
    later = {"before": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    assert client.get("/dags/consumer/datasets/queuedEvent", params=later).status_code == 200

    with transaction(session_factory) as session:
        audited = session.scalars(
            sa.select(LogRow.event).where(LogRow.event == "api.create_dataset_event")
        ).all()
    assert audited == ["api.create_dataset_event"]


def test_create_dataset_event_refuses_bad_input_and_unknown_datasets(
    client: httpx.Client, dags: None
) -> None:
    unknown = client.post("/datasets/events", json={"dataset_uri": "s3://nope"})
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "Dataset with uri: 's3://nope' not found"

    for body in (
        {},
        {"dataset_uri": 42},
        {"dataset_uri": RAW, "extra": "text"},
        {"dataset_uri": RAW, "colour": "red"},
    ):
        refused = client.post("/datasets/events", json=body)
        assert refused.status_code == 400, (body, refused.text)
    assert client.get("/datasets/events").json()["total_entries"] == 0


def test_paused_consumer_is_not_queued(
    client: httpx.Client, dags: None, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        session.execute(sa.update(DagRow).where(DagRow.dag_id == "consumer").values(is_paused=True))
    assert client.post("/datasets/events", json={"dataset_uri": RAW}).status_code == 200
    assert client.get(f"/datasets/queuedEvent/{encoded(RAW)}").status_code == 404


def test_delete_queued_events(client: httpx.Client, dags: None) -> None:
    def queue_both() -> None:
        for uri in (RAW, OTHER):
            assert client.post("/datasets/events", json={"dataset_uri": uri}).status_code == 200

    queue_both()
    one = f"/dags/consumer/datasets/queuedEvent/{encoded(RAW)}"
    assert client.delete(one).status_code == 204
    missing = client.delete(one)
    assert missing.status_code == 404
    assert missing.json()["detail"] == (
        f"Queue event with dag_id: `consumer` and dataset uri: `{RAW}` was not found"
    )
    assert client.get(one).status_code == 404
    remaining = client.get("/dags/consumer/datasets/queuedEvent").json()["datasets"]
    assert [item["uri"] for item in remaining] == [OTHER]

    old = {"before": "2000-01-01T00:00:00+00:00"}
    assert client.delete("/dags/consumer/datasets/queuedEvent", params=old).status_code == 404
    assert client.delete("/dags/consumer/datasets/queuedEvent").status_code == 204
    gone = client.get("/dags/consumer/datasets/queuedEvent")
    assert gone.status_code == 404
    assert gone.json()["detail"] == "Queue event with dag_id: `consumer` was not found"

    queue_both()
    by_dataset = f"/datasets/queuedEvent/{encoded(OTHER)}"
    assert client.delete(by_dataset).status_code == 204
    assert client.delete(by_dataset).status_code == 404
    assert client.get(f"/datasets/queuedEvent/{encoded(RAW)}").status_code == 200

    bad = client.get("/dags/consumer/datasets/queuedEvent", params={"before": "yesterday"})
    assert bad.status_code == 400 and "before" in bad.json()["detail"]
    # An unencoded '+' arrives as a space; it is read as the offset it was.
    plus = client.get("/dags/consumer/datasets/queuedEvent?before=2999-01-01T00:00:00+00:00")
    assert plus.status_code == 200, plus.text


@pytest.fixture
def scheduler(
    api_settings: Settings, session_factory: sessionmaker[Session]
) -> Iterator[Scheduler]:
    executor = InlineExecutor(
        api_settings, session_factory=session_factory, dag_loader=collect_dags
    )
    executor.start()
    yield Scheduler(api_settings, session_factory, executor, lambda: datetime.now(UTC))
    executor.end()


def _drive(scheduler: Scheduler) -> None:
    """Tick until nothing changes, as ``Scheduler.run`` would."""
    for _ in range(40):
        stats = scheduler.tick()
        if not (stats.changed or scheduler.handle_events()):
            return
    raise AssertionError("the scheduler kept changing things")


def test_api_events_trigger_a_dataset_run(
    client: httpx.Client,
    dags: None,
    scheduler: Scheduler,
    session_factory: sessionmaker[Session],
) -> None:
    first = client.post("/datasets/events", json={"dataset_uri": RAW}).json()
    _drive(scheduler)
    assert client.get("/dags/consumer/datasets/queuedEvent").status_code == 200
    second = client.post("/datasets/events", json={"dataset_uri": OTHER}).json()
    _drive(scheduler)

    assert client.get("/dags/consumer/datasets/queuedEvent").status_code == 404
    with transaction(session_factory) as session:
        run = session.scalars(sa.select(DagRunRow).where(DagRunRow.dag_id == "consumer")).one()
        expected_id, state = run.run_id, run.state
    assert expected_id.startswith("dataset_triggered__") and state == "success"
    events = client.get("/datasets/events").json()["dataset_events"]
    assert [event["id"] for event in events] == [first["id"], second["id"]]
    for event in events:
        (created,) = event["created_dagruns"]
        assert created["run_id"] == created["dag_run_id"] == expected_id
        assert created["dag_id"] == "consumer" and created["state"] == "success"
        assert created["data_interval_start"].startswith(first["timestamp"][:19])
        assert created["data_interval_end"].startswith(second["timestamp"][:19])
    ordered = client.get("/datasets/events", params={"order_by": "-timestamp"}).json()
    assert [event["id"] for event in ordered["dataset_events"]] == [second["id"], first["id"]]
    assert client.get("/datasets/events", params={"order_by": "extra"}).status_code == 400


@pytest.fixture
def narrow_client(
    api_server: LiveServer, session_factory: sessionmaker[Session]
) -> Iterator[httpx.Client]:
    """A user who may read datasets and the DAG ``producer`` only."""
    with transaction(session_factory) as session:
        role = ensure_role(session, "ProducerReader")
        role.permissions = ensure_permissions(session, [(READ, DATASET), (READ, "DAG:producer")])
        session.add(
            UserRow(
                username="narrow",
                email="narrow@example.com",
                first_name="Narrow",
                last_name="Tester",
                active=True,
                password_hash=PASSWORD_HASH,
                roles=[role],
            )
        )
    with make_client(api_server, "narrow") as opened:
        yield opened


def test_dataset_permissions(
    client: httpx.Client,
    client_as: Callable[[str], httpx.Client],
    narrow_client: httpx.Client,
    dags: None,
) -> None:
    assert client_as("public").get("/datasets").status_code == 403
    viewer = client_as("viewer")
    assert viewer.get("/datasets").status_code == 200
    assert viewer.get(f"/datasets/{encoded(RAW)}").status_code == 200
    assert viewer.get("/datasets/events").status_code == 200
    assert viewer.post("/datasets/events", json={"dataset_uri": RAW}).status_code == 403

    user = client_as("user")
    assert user.post("/datasets/events", json={"dataset_uri": RAW}).status_code == 200
    assert user.get("/dags/consumer/datasets/queuedEvent").status_code == 200
    assert user.delete("/dags/consumer/datasets/queuedEvent").status_code == 403
    assert user.delete(f"/datasets/queuedEvent/{encoded(RAW)}").status_code == 403

    # Queued events of a DAG need read access to it; those of a dataset are narrowed.
    assert narrow_client.get("/dags/consumer/datasets/queuedEvent").status_code == 403
    assert narrow_client.get(f"/datasets/queuedEvent/{encoded(RAW)}").status_code == 404
    assert client.get(f"/datasets/queuedEvent/{encoded(RAW)}").status_code == 200

    assert client_as("op").delete("/dags/consumer/datasets/queuedEvent").status_code == 204


def test_the_official_client_reads_datasets_and_events(api_server: LiveServer, dags: None) -> None:
    configuration = airflow_client.Configuration(
        host=api_server.url, username="admin", password=PASSWORD
    )
    with airflow_client.ApiClient(configuration) as api:
        datasets = DatasetApi(api)
        created = datasets.create_dataset_event(
            CreateDatasetEvent(dataset_uri=RAW, extra={"rows": 1})
        )
        listed = datasets.get_datasets(uri_pattern="bucket")
        one = datasets.get_dataset(RAW)
        events = datasets.get_dataset_events(dataset_id=one.id)
        queued = datasets.get_dag_dataset_queued_events("consumer")
        queued_one = datasets.get_dag_dataset_queued_event("consumer", RAW)
        by_dataset = datasets.get_dataset_queued_events(RAW)
        datasets.delete_dag_dataset_queued_event("consumer", RAW)
    assert created.dataset_uri == RAW and created.extra["from_rest_api"] is True
    assert [dataset.uri for dataset in listed.datasets] == [RAW, OTHER]
    assert one.producing_tasks[0].task_id == "extract"
    assert [event.dataset_uri for event in events.dataset_events] == [RAW]
    assert [event.uri for event in queued.datasets] == [RAW]
    assert queued_one.dag_id == "consumer" and by_dataset.total_entries == 1
