"""``/dags`` and ``/dags/{dag_id}`` through real HTTP: list and its filters, read, details,
pause and unpause (one and many), delete, and who may do each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from api_support import LiveServer
from dag_support import AddDagFile, add_dags
from fastapi.responses import JSONResponse
from grants_support import add_user_with
from sqlalchemy.orm import Session, sessionmaker

from tradewind.api.file_tokens import FileTokens
from tradewind.api.schemas.dag import DAGCollection, only_fields
from tradewind.security.permissions import DAG, EDIT, READ
from tradewind.services.dag_runs import trigger_dag_run
from tradewind.services.dags import load_serialized_dag
from tradewind.storage.engine import transaction
from tradewind.storage.repositories.dags import list_dags
from tradewind.storage.repositories.task_instances import create_task_instances
from tradewind.storage.tables import (
    DagRow,
    DagRunRow,
    DagTagRow,
    DagWarningRow,
    ImportErrorRow,
    LogRow,
    SerializedDagRow,
    TaskInstanceRow,
    XComRow,
)

Factory = sessionmaker[Session]
ClientAs = Callable[[str], httpx.Client]


@pytest.fixture
def dags(add_dag_file: AddDagFile) -> None:
    add_dags(add_dag_file)


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [dag["dag_id"] for dag in response.json()["dags"]]


@pytest.mark.usefixtures("dags")
def test_get_dags_shows_every_field_of_the_spec(client: httpx.Client) -> None:
    listed = client.get("/dags")
    assert ids(listed) == ["adhoc", "etl", "reports"]
    assert listed.json()["total_entries"] == 3
    etl = listed.json()["dags"][1]
    assert etl == client.get("/dags/etl").json()
    assert etl["fileloc"].endswith("/etl.py") and etl["file_token"]
    dynamic = {"fileloc", "file_token", "last_parsed_time"}
    assert {key: value for key, value in etl.items() if key not in dynamic} == {
        "dag_id": "etl",
        "dag_display_name": "etl",
        "root_dag_id": None,
        "is_paused": False,
        "is_active": True,
        "is_subdag": False,
        "last_pickled": None,
        "last_expired": None,
        "scheduler_lock": None,
        "pickle_id": None,
        "default_view": "grid",
        "owners": ["data", "ops"],
        "description": "Nightly ETL",
        "schedule_interval": {"__type": "CronExpression", "value": "0 3 * * *"},
        "timetable_description": "At 03:00",
        "tags": [{"name": "finance"}, {"name": "nightly"}],
        "max_active_tasks": 16,
        "max_active_runs": 16,
        "has_task_concurrency_limits": False,
        "has_import_errors": False,
        "next_dagrun": None,
        "next_dagrun_data_interval_start": None,
        "next_dagrun_data_interval_end": None,
        "next_dagrun_create_after": None,
        "max_consecutive_failed_dag_runs": 0,
    }
    reports = listed.json()["dags"][2]
    assert reports["schedule_interval"] == {
        "__type": "TimeDelta",
        "days": 0,
        "seconds": 3600,
        "microseconds": 0,
    }
    assert listed.json()["dags"][0]["schedule_interval"] is None


def test_list_body_is_the_models_json_byte_for_byte(
    client: httpx.Client, api_server: LiveServer, session_factory: Factory
) -> None:
    """The list writes plain dicts (``api/list_bodies.py``), ``DAG`` is the documented
    shape: the bytes must be the model's, whatever the values (text to escape, times with
    and without microseconds, nulls, odd owners, tags), field order included."""
    stamp = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    with transaction(session_factory) as session:
        session.add_all(
            [
                DagRow(
                    dag_id="odd",
                    dag_display_name='Ünïcode "quoted" \\ back\nslash \u2028 \x01 ☃ 🚀',
                    is_paused=True,
                    is_active=True,
                    last_parsed_time=stamp,
                    last_expired=stamp.replace(microsecond=0),
                    fileloc="/dags/odd file.py",
                    owners=" a , ,b,ünï ",
                    description="line\ttab",
                    default_view="graph",
                    timetable_description=None,
                    schedule_interval={"__type": "TimeDelta", "days": 1, "seconds": 1.5},
                    max_active_tasks=3,
                    max_active_runs=None,
                    has_task_concurrency_limits=True,
                    next_dagrun=stamp,
                    next_dagrun_data_interval_start=stamp,
                    next_dagrun_data_interval_end=stamp,
                    next_dagrun_create_after=stamp,
                    max_consecutive_failed_dag_runs=2,
                    tags=[DagTagRow(name="zeta"), DagTagRow(name='Älpha "x"')],
                ),
                DagRow(dag_id="plain", is_active=True),
            ]
        )
    listed = client.get("/dags")
    narrowed = client.get("/dags", params={"fields": "tags,dag_id,last_parsed_time"})
    with transaction(session_factory) as session:
        found = list_dags(session)
        tokens = FileTokens(api_server.settings)
        model = DAGCollection.from_rows(found.items, found.total_entries, tokens)
        expected = model.model_dump_json(by_alias=True).encode()
    assert listed.status_code == 200 and listed.content == expected
    # As the model's narrowed dump rendered by JSONResponse, before the list skipped it.
    wanted = {"tags", "dag_id", "last_parsed_time"}
    dags = [only_fields(dag, wanted) for dag in model.dags]
    document = {"dags": dags, "total_entries": model.total_entries}
    assert narrowed.content == JSONResponse(document).body
    assert list(narrowed.json()["dags"][0]) == ["dag_id", "last_parsed_time", "tags"]


@pytest.mark.usefixtures("dags")
def test_get_dags_filters_and_pages(client: httpx.Client, session_factory: Factory) -> None:
    assert ids(client.get("/dags", params={"tags": "nightly"})) == ["etl"]
    assert ids(client.get("/dags", params=[("tags", "nightly"), ("tags", "finance")])) == [
        "etl",
        "reports",
    ]
    assert ids(client.get("/dags", params={"paused": "true"})) == ["adhoc"]
    assert ids(client.get("/dags", params={"paused": "false"})) == ["etl", "reports"]
    assert ids(client.get("/dags", params={"dag_id_pattern": "EP"})) == ["reports"]
    assert ids(client.get("/dags", params={"dag_id_pattern": "e_l"})) == ["etl"]

    page = client.get("/dags", params={"order_by": "-dag_id", "limit": 1, "offset": 1})
    assert ids(page) == ["etl"] and page.json()["total_entries"] == 3

    with transaction(session_factory) as session:
        session.get_one(DagRow, "reports").is_active = False
    assert ids(client.get("/dags")) == ["adhoc", "etl"]
    assert ids(client.get("/dags", params={"only_active": "false"})) == ["adhoc", "etl", "reports"]


@pytest.mark.usefixtures("dags")
def test_fields_narrow_the_response(client: httpx.Client) -> None:
    listed = client.get("/dags", params=[("fields", "dag_id"), ("fields", "is_paused")])
    assert listed.status_code == 200, listed.text
    assert listed.json() == {
        "dags": [
            {"dag_id": "adhoc", "is_paused": True},
            {"dag_id": "etl", "is_paused": False},
            {"dag_id": "reports", "is_paused": False},
        ],
        "total_entries": 3,
    }
    one = client.get("/dags/etl", params={"fields": "owners,tags"})
    assert one.json() == {
        "owners": ["data", "ops"],
        "tags": [{"name": "finance"}, {"name": "nightly"}],
    }
    detail = client.get("/dags/etl/details", params={"fields": "catchup,dag_id"})
    assert detail.json() == {"catchup": False, "dag_id": "etl"}

    for path in ("/dags", "/dags/etl", "/dags/etl/details"):
        bad = client.get(path, params={"fields": "colour"})
        assert bad.status_code == 400 and "colour" in bad.json()["detail"]


@pytest.mark.usefixtures("dags")
def test_bad_list_parameters_are_400s(client: httpx.Client) -> None:
    for params in ({"order_by": "fileloc"}, {"paused": "sometimes"}, {"limit": "-1"}):
        bad = client.get("/dags", params=params)
        assert bad.status_code == 400, params
        assert bad.headers["content-type"] == "application/problem+json"


@pytest.mark.usefixtures("dags")
def test_get_dag_details_reads_the_serialized_dag(client: httpx.Client) -> None:
    detail = client.get("/dags/etl/details")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["file_token"] == client.get("/dags/etl").json()["file_token"]
    assert body["last_parsed"] == body["last_parsed_time"]
    assert {key: body[key] for key in body if key not in DAG_FIELDS} == {
        "timezone": "UTC",
        "catchup": False,
        "orientation": "LR",
        "concurrency": 16,
        "start_date": "2024-01-01T00:00:00Z",
        "dag_run_timeout": {"__type": "TimeDelta", "days": 0, "seconds": 7200, "microseconds": 0},
        "dataset_expression": None,
        "doc_md": "Nightly extract and load.",
        "params": {
            "rows": {
                "__class": "airflow.models.param.Param",
                "value": 10,
                "description": "Rows to load",
                "schema": {"type": "integer", "minimum": 0},
            }
        },
        "end_date": "2030-01-01T00:00:00Z",
        "is_paused_upon_creation": False,
        "last_parsed": body["last_parsed"],
        "template_search_path": ["/opt/sql"],
        "render_template_as_native_obj": False,
    }
    adhoc = client.get("/dags/adhoc/details").json()
    # catchup left unset: [scheduler] catchup_by_default.
    assert adhoc["catchup"] is True and adhoc["start_date"] is None
    assert adhoc["dag_run_timeout"] is None and adhoc["template_search_path"] is None

    assert client.get("/dags/nope/details").status_code == 404


DAG_FIELDS = {
    "dag_id",
    "dag_display_name",
    "root_dag_id",
    "is_paused",
    "is_active",
    "is_subdag",
    "last_parsed_time",
    "last_pickled",
    "last_expired",
    "scheduler_lock",
    "pickle_id",
    "default_view",
    "fileloc",
    "file_token",
    "owners",
    "description",
    "schedule_interval",
    "timetable_description",
    "tags",
    "max_active_tasks",
    "max_active_runs",
    "has_task_concurrency_limits",
    "has_import_errors",
    "next_dagrun",
    "next_dagrun_data_interval_start",
    "next_dagrun_data_interval_end",
    "next_dagrun_create_after",
    "max_consecutive_failed_dag_runs",
}


@pytest.mark.usefixtures("dags")
def test_patch_dag_pauses_and_unpauses(client: httpx.Client, session_factory: Factory) -> None:
    paused = client.patch(
        "/dags/etl", params={"update_mask": "is_paused"}, json={"is_paused": True}
    )
    assert paused.status_code == 200, paused.text
    assert paused.json()["is_paused"] is True and paused.json()["dag_id"] == "etl"
    assert client.get("/dags/etl").json()["is_paused"] is True

    unpaused = client.patch("/dags/etl", json={"is_paused": False})
    assert unpaused.status_code == 200 and unpaused.json()["is_paused"] is False

    with transaction(session_factory) as session:
        events = session.scalars(
            sa.select(LogRow.event).where(LogRow.dag_id == "etl").order_by(LogRow.id)
        ).all()
    assert events == ["pause", "api.patch_dag", "unpause", "api.patch_dag"]


@pytest.mark.usefixtures("dags")
def test_bad_patches_are_refused_and_change_nothing(client: httpx.Client) -> None:
    cases = [
        ({"update_mask": "description"}, {"is_paused": True}, "Only `is_paused`"),
        ({}, {}, "is_paused"),
        ({}, {"is_paused": None}, "is_paused"),
        ({}, {"is_paused": "yes"}, "is_paused"),
        ({}, {"is_paused": True, "dag_id": "other"}, "dag_id: unknown field"),
    ]
    for params, body, detail in cases:
        refused = client.patch("/dags/etl", params=params, json=body)
        assert refused.status_code == 400, (params, body)
        assert detail in refused.json()["detail"]
    assert client.get("/dags/etl").json()["is_paused"] is False

    missing = client.patch("/dags/nope", json={"is_paused": True})
    assert missing.status_code == 404
    assert missing.json()["detail"] == "DAG with dag_id: 'nope' not found"


@pytest.mark.usefixtures("dags")
def test_patch_dags_pauses_the_matching_dags(client: httpx.Client) -> None:
    everything = client.patch(
        "/dags",
        params={"dag_id_pattern": "~", "update_mask": "is_paused"},
        json={"is_paused": True},
    )
    assert ids(everything) == ["adhoc", "etl", "reports"]
    assert all(dag["is_paused"] for dag in everything.json()["dags"])

    tagged = client.patch(
        "/dags",
        params={"dag_id_pattern": "~", "tags": "finance", "limit": 1},
        json={"is_paused": False},
    )
    assert ids(tagged) == ["etl"] and tagged.json()["total_entries"] == 2
    assert tagged.json()["dags"][0]["is_paused"] is False
    assert ids(client.get("/dags", params={"paused": "false"})) == ["etl"]

    matching = client.patch("/dags", params={"dag_id_pattern": "port"}, json={"is_paused": False})
    assert ids(matching) == ["reports"]

    missing_pattern = client.patch("/dags", json={"is_paused": True})
    assert (
        missing_pattern.status_code == 400 and "dag_id_pattern" in missing_pattern.json()["detail"]
    )
    bad_mask = client.patch(
        "/dags", params={"dag_id_pattern": "~", "update_mask": "tags"}, json={"is_paused": True}
    )
    assert bad_mask.status_code == 400
    assert ids(client.get("/dags", params={"paused": "false"})) == ["etl", "reports"]


@pytest.mark.usefixtures("dags")
def test_delete_dag_removes_its_rows_but_keeps_the_audit_log(
    client: httpx.Client, session_factory: Factory
) -> None:
    run_dag(session_factory, "etl", {"extract": "success", "load": "failed"})
    run_dag(session_factory, "reports", {"render": "success"})
    with transaction(session_factory) as session:
        fileloc = session.get_one(DagRow, "etl").fileloc
        assert fileloc is not None
        session.add(
            XComRow(dag_id="etl", run_id="r1", task_id="extract", key="return_value", value=1)
        )
        session.add(DagWarningRow(dag_id="etl", warning_type="non-existent pool", message="x"))
        session.add(ImportErrorRow(filename=fileloc, stacktrace="boom"))

    deleted = client.delete("/dags/etl")
    assert deleted.status_code == 204, deleted.text
    assert client.get("/dags/etl").status_code == 404
    assert ids(client.get("/dags")) == ["adhoc", "reports"]
    with transaction(session_factory) as session:
        for row_class in (DagRunRow, TaskInstanceRow, XComRow, DagWarningRow, SerializedDagRow):
            count = sa.select(sa.func.count()).select_from(row_class)
            assert session.scalar(count.where(row_class.dag_id == "etl")) == 0, row_class
        assert session.scalar(sa.select(sa.func.count()).select_from(ImportErrorRow)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(TaskInstanceRow)) == 1
        events = session.scalars(sa.select(LogRow.event).where(LogRow.dag_id == "etl")).all()
    assert "trigger" in events and "api.delete_dag" in events

    again = client.delete("/dags/etl")
    assert again.status_code == 404


@pytest.mark.usefixtures("dags")
def test_delete_dag_with_running_tasks_is_a_conflict(
    client: httpx.Client, session_factory: Factory
) -> None:
    run_dag(session_factory, "etl", {"extract": "running"})
    refused = client.delete("/dags/etl")
    assert refused.status_code == 409
    assert refused.json()["detail"] == "Task instances of dag with id: 'etl' are still running"
    assert client.get("/dags/etl").status_code == 200


@pytest.mark.usefixtures("dags")
def test_roles_and_per_dag_permissions(client_as: ClientAs, session_factory: Factory) -> None:
    viewer = client_as("viewer")
    assert ids(viewer.get("/dags")) == ["adhoc", "etl", "reports"]
    assert viewer.get("/dags/etl/details").status_code == 200
    assert viewer.patch("/dags/etl", json={"is_paused": True}).status_code == 403
    assert (
        viewer.patch("/dags", params={"dag_id_pattern": "~"}, json={"is_paused": True}).status_code
        == 403
    )
    assert viewer.delete("/dags/etl").status_code == 403
    public = client_as("public")
    assert public.get("/dags").status_code == 403
    assert public.get("/dags/etl").status_code == 403

    add_user_with(session_factory, "etl_owner", [(READ, "DAG:etl"), (EDIT, "DAG:etl")])
    owner = client_as("etl_owner")
    assert ids(owner.get("/dags")) == ["etl"]
    assert owner.get("/dags/reports").status_code == 403
    assert owner.get("/dags/etl/details").status_code == 200
    patched = owner.patch("/dags", params={"dag_id_pattern": "~"}, json={"is_paused": True})
    assert ids(patched) == ["etl"]
    assert owner.patch("/dags/reports", json={"is_paused": True}).status_code == 403
    assert owner.delete("/dags/etl").status_code == 403
    assert ids(client_as("user").get("/dags", params={"paused": "true"})) == ["adhoc", "etl"]

    add_user_with(session_factory, "reader", [(READ, DAG)])
    assert client_as("reader").patch("/dags/etl", json={"is_paused": False}).status_code == 403


def run_dag(session_factory: Factory, dag_id: str, states: dict[str, str]) -> None:
    """Trigger ``dag_id`` (run ``r1``) and give its task instances ``states``."""
    with transaction(session_factory) as session:
        run = trigger_dag_run(session, dag_id, now=datetime.now(UTC), run_id="r1")
        run.state = "running"
        create_task_instances(session, run, load_serialized_dag(session, dag_id))
        session.flush()
        for ti in session.scalars(
            sa.select(TaskInstanceRow).where(TaskInstanceRow.dag_id == dag_id)
        ):
            ti.state = states.get(ti.task_id)


def test_listing_takes_a_bounded_number_of_queries_whatever_the_page_size(
    client: httpx.Client, engine: sa.Engine, session_factory: Factory
) -> None:
    def add(first: int, count: int) -> None:
        with transaction(session_factory) as session:
            for number in range(first, first + count):
                dag_id = f"dag_{number:04}"
                session.add(DagRow(dag_id=dag_id, is_active=True, fileloc=f"/dags/{dag_id}.py"))
                session.flush()
                session.add_all(DagTagRow(dag_id=dag_id, name=name) for name in ("a", "b"))

    def statements(path: str) -> int:
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            response = client.get(path, params={"limit": 100})
            assert response.status_code == 200, response.text
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    add(0, 5)
    statements("/dags")  # the first request of a user also records its login
    few = statements("/dags")
    add(5, 95)
    full = statements("/dags")
    assert full == few + 1  # a full page may not be the whole list: count(*)
    add(100, 50)
    assert statements("/dags") == full
    assert len(client.get("/dags", params={"limit": 100}).json()["dags"]) == 100
