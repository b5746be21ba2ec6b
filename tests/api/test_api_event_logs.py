"""``/eventLogs`` through real HTTP: API changes are audited, filters, per-DAG visibility."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import airflow_client.client as airflow_client
import httpx
from airflow_client.client.api.event_log_api import EventLogApi
from api_support import PASSWORD, LiveServer
from grants_support import add_user_with
from sqlalchemy.orm import Session, sessionmaker

from tradewind.security.permissions import AUDIT_LOG, DAG_PREFIX, READ
from tradewind.services.audit import record_event
from tradewind.storage.engine import transaction

START = datetime(2024, 1, 1, tzinfo=UTC)


def test_a_change_through_the_api_is_in_the_event_log(client: httpx.Client) -> None:
    assert client.post("/variables", json={"key": "region", "value": "eu"}).status_code == 200
    found = client.get("/eventLogs", params={"event": "api.post_variables"})
    assert found.status_code == 200, found.text
    [entry] = found.json()["event_logs"]
    assert entry["owner"] == "admin"
    assert json.loads(entry["extra"]) == {
        "method": "POST",
        "path": "/api/v1/variables",
        "variable_key": "region",
    }
    assert entry["execution_date"] is None
    assert datetime.fromisoformat(entry["when"]) > START

    one = client.get(f"/eventLogs/{entry['event_log_id']}")
    assert one.status_code == 200 and one.json() == entry
    # Reading is not audited: only the write is there.
    assert client.get("/eventLogs").json()["total_entries"] == 1


def test_event_log_filters(client: httpx.Client, session_factory: sessionmaker[Session]) -> None:
    _add_events(
        session_factory,
        [
            {"event": "trigger", "owner": "ann", "dag_id": "etl", "run_id": "r1"},
            {"event": "clear", "owner": "bob", "dag_id": "etl", "task_id": "load", "map_index": 2},
            {"event": "clear", "owner": "ann", "dag_id": "report", "try_number": 3},
            {"event": "cli_pause", "owner": "ann"},
        ],
    )

    def events(**params: object) -> list[str]:
        found = client.get("/eventLogs", params=params)
        assert found.status_code == 200, found.text
        if "limit" not in params and "offset" not in params:
            assert found.json()["total_entries"] == len(found.json()["event_logs"])
        return [f"{e['event']}:{e['owner']}" for e in found.json()["event_logs"]]

    assert events() == ["trigger:ann", "clear:bob", "clear:ann", "cli_pause:ann"]
    assert events(dag_id="etl") == ["trigger:ann", "clear:bob"]
    assert events(task_id="load") == events(map_index=2) == ["clear:bob"]
    assert events(run_id="r1") == ["trigger:ann"]
    assert events(try_number=3) == ["clear:ann"]
    assert events(event="clear", owner="ann") == ["clear:ann"]
    assert events(included_events="trigger,cli_pause") == ["trigger:ann", "cli_pause:ann"]
    assert events(excluded_events="clear") == ["trigger:ann", "cli_pause:ann"]
    after = (START + timedelta(minutes=1)).isoformat()
    before = (START + timedelta(minutes=3)).isoformat()
    assert events(after=after, before=before) == ["clear:ann"]
    assert events(order_by="-when", limit=2) == ["cli_pause:ann", "clear:ann"]
    page = client.get("/eventLogs", params={"event": "clear", "limit": 1}).json()
    assert page["total_entries"] == 2 and len(page["event_logs"]) == 1
    assert events(order_by="owner", offset=3) == ["clear:bob"]
    assert events(dag_id="") == events()

    assert client.get("/eventLogs", params={"order_by": "nope"}).status_code == 400
    assert client.get("/eventLogs", params={"after": "yesterday"}).status_code == 400
    assert client.get("/eventLogs", params={"map_index": "x"}).status_code == 400


def test_missing_event_log_is_a_404(client: httpx.Client) -> None:
    missing = client.get("/eventLogs/987654")
    assert missing.status_code == 404
    assert "987654" in missing.json()["detail"]


def test_users_of_some_dags_see_only_their_events(
    api_server: LiveServer, session_factory: sessionmaker[Session]
) -> None:
    etl, report, no_dag = _add_events(
        session_factory,
        [{"event": "trigger", "dag_id": "etl"}, {"event": "trigger", "dag_id": "report"}, {}],
    )
    add_user_with(session_factory, "etl_team", [(READ, AUDIT_LOG), (READ, DAG_PREFIX + "etl")])
    with httpx.Client(base_url=api_server.url, auth=("etl_team", PASSWORD)) as team:
        listed = team.get("/eventLogs").json()
        assert [entry["event_log_id"] for entry in listed["event_logs"]] == [etl]
        assert team.get(f"/eventLogs/{etl}").status_code == 200
        assert team.get(f"/eventLogs/{report}").status_code == 403
        assert team.get(f"/eventLogs/{no_dag}").status_code == 403


def test_event_log_permissions(client_as: Callable[[str], httpx.Client]) -> None:
    assert client_as("viewer").get("/eventLogs").status_code == 200
    assert client_as("public").get("/eventLogs").status_code == 403
    assert client_as("public").get("/eventLogs/1").status_code == 403


def test_the_official_client_reads_event_logs(
    api_server: LiveServer, session_factory: sessionmaker[Session]
) -> None:
    [entry_id] = _add_events(session_factory, [{"event": "trigger", "dag_id": "etl"}])
    configuration = airflow_client.Configuration(
        host=api_server.url, username="admin", password=PASSWORD
    )
    with airflow_client.ApiClient(configuration) as api:
        entry = EventLogApi(api).get_event_log(entry_id)
        listed = EventLogApi(api).get_event_logs(dag_id="etl")
    assert (entry.event, entry.dag_id) == ("trigger", "etl")
    assert [each.event_log_id for each in listed.event_logs] == [entry_id]


def _add_events(session_factory: sessionmaker[Session], events: list[dict[str, Any]]) -> list[int]:
    """Audit rows a minute apart from :data:`START`, in order; their ids."""
    with transaction(session_factory) as session:
        rows = []
        for index, fields in enumerate(events):
            try_number = fields.pop("try_number", None)
            fields.setdefault("event", "cli_event")
            row = record_event(session, now=START + timedelta(minutes=index), **fields)
            row.try_number = try_number
            rows.append(row)
        session.flush()
        return [row.id for row in rows]


def test_integers_beyond_64_bits_are_a_400(client: httpx.Client) -> None:
    huge = str(2**70)
    assert client.get("/eventLogs", params={"map_index": huge}).status_code == 400
    assert client.get("/eventLogs", params={"try_number": huge}).status_code == 400
    assert client.get(f"/eventLogs/{huge}").status_code == 400
    assert client.get(f"/importErrors/{huge}").status_code == 400
