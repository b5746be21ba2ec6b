"""``/importErrors`` through real HTTP: files that failed to import, per-DAG visibility."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import airflow_client.client as airflow_client
import httpx
from airflow_client.client.api.import_error_api import ImportErrorApi
from api_support import PASSWORD, LiveServer
from grants_support import add_user_with
from sqlalchemy.orm import Session, sessionmaker

from tradewind.security.permissions import DAG_PREFIX, IMPORT_ERROR, READ
from tradewind.storage.engine import transaction
from tradewind.storage.tables import DagRow, ImportErrorRow

BROKEN = """
from tradewind import DAG
raise RuntimeError("no such table: warehouse")
"""


def test_a_broken_dag_file_is_listed_with_its_stack_trace(
    client: httpx.Client, add_dag_file: Callable[[str, str], None]
) -> None:
    add_dag_file("broken.py", BROKEN)
    listed = client.get("/importErrors")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total_entries"] == 1
    [error] = body["import_errors"]
    assert set(error) == {"import_error_id", "timestamp", "filename", "stack_trace"}
    assert error["filename"].endswith("broken.py")
    assert "no such table: warehouse" in error["stack_trace"]
    assert datetime.fromisoformat(error["timestamp"]).tzinfo is not None

    one = client.get(f"/importErrors/{error['import_error_id']}")
    assert one.status_code == 200 and one.json() == error


def test_missing_import_error_is_a_404(client: httpx.Client) -> None:
    missing = client.get("/importErrors/424242")
    assert missing.status_code == 404
    assert (
        missing.json()["detail"] == "The ImportError with import_error_id: `424242` was not found"
    )
    assert client.get("/importErrors/not-a-number").status_code == 400


def test_import_errors_page_and_order(
    client: httpx.Client, session_factory: sessionmaker[Session]
) -> None:
    ids = _add_errors(session_factory, ["/dags/b.py", "/dags/c.py", "/dags/a.py"])

    def filenames(**params: object) -> list[str]:
        found = client.get("/importErrors", params=params).json()
        assert found["total_entries"] == 3
        return [error["filename"] for error in found["import_errors"]]

    assert filenames() == ["/dags/b.py", "/dags/c.py", "/dags/a.py"]
    assert filenames(order_by="filename", limit=2) == ["/dags/a.py", "/dags/b.py"]
    assert filenames(order_by="-timestamp", offset=1) == ["/dags/c.py", "/dags/b.py"]
    by_id = client.get("/importErrors", params={"order_by": "-import_error_id"}).json()
    assert [error["import_error_id"] for error in by_id["import_errors"]] == ids[::-1]
    assert client.get("/importErrors", params={"order_by": "stack_trace"}).status_code == 400


def test_users_of_some_dags_see_only_errors_of_their_files(
    api_server: LiveServer, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        session.add_all(
            [
                DagRow(dag_id="etl", fileloc="/dags/etl.py"),
                DagRow(dag_id="etl_extra", fileloc="/dags/shared.py"),
                DagRow(dag_id="secret", fileloc="/dags/shared.py"),
                DagRow(dag_id="other", fileloc="/dags/other.py"),
            ]
        )
    etl, shared, other = _add_errors(
        session_factory, ["/dags/etl.py", "/dags/shared.py", "/dags/other.py"]
    )
    add_user_with(
        session_factory,
        "etl_team",
        [(READ, IMPORT_ERROR), (READ, DAG_PREFIX + "etl"), (READ, DAG_PREFIX + "etl_extra")],
    )
    with httpx.Client(base_url=api_server.url, auth=("etl_team", PASSWORD)) as team:
        listed = team.get("/importErrors").json()
        assert listed["total_entries"] == 2
        traces = {e["filename"]: e["stack_trace"] for e in listed["import_errors"]}
        assert traces == {
            "/dags/etl.py": "Traceback: /dags/etl.py",
            "/dags/shared.py": "REDACTED - you do not have read permission on all DAGs in the file",
        }
        assert team.get(f"/importErrors/{etl}").json()["stack_trace"].startswith("Traceback")
        assert team.get(f"/importErrors/{shared}").json()["stack_trace"].startswith("REDACTED")
        refused = team.get(f"/importErrors/{other}")
        assert refused.status_code == 403
        assert refused.json()["detail"] == (
            "You do not have read permission on any of the DAGs in the file"
        )


def test_import_error_permissions(client_as: Callable[[str], httpx.Client]) -> None:
    assert client_as("viewer").get("/importErrors").status_code == 200
    assert client_as("public").get("/importErrors").status_code == 403
    assert client_as("public").get("/importErrors/1").status_code == 403


def test_the_official_client_reads_import_errors(
    api_server: LiveServer, session_factory: sessionmaker[Session]
) -> None:
    [error_id] = _add_errors(session_factory, ["/dags/a.py"])
    configuration = airflow_client.Configuration(
        host=api_server.url, username="admin", password=PASSWORD
    )
    with airflow_client.ApiClient(configuration) as api:
        error = ImportErrorApi(api).get_import_error(error_id)
        listed = ImportErrorApi(api).get_import_errors()
    assert (error.filename, error.stack_trace) == ("/dags/a.py", "Traceback: /dags/a.py")
    assert listed.total_entries == 1


def _add_errors(session_factory: sessionmaker[Session], filenames: list[str]) -> list[int]:
    """One import error per file, a minute apart in the given order; their ids."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with transaction(session_factory) as session:
        rows = [
            ImportErrorRow(
                filename=name,
                timestamp=start + timedelta(minutes=index),
                stacktrace=f"Traceback: {name}",
            )
            for index, name in enumerate(filenames)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]
