"""``/dagWarnings`` through real HTTP: filters, order, pages and per-DAG access."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from dag_support import AddDagFile, add_dags
from grants_support import add_user_with
from sqlalchemy.orm import Session, sessionmaker

from tradewind.security.permissions import DAG_WARNING, READ
from tradewind.storage.engine import transaction
from tradewind.storage.tables import DagWarningRow

Factory = sessionmaker[Session]
WHEN = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture
def warnings(add_dag_file: AddDagFile, session_factory: Factory) -> None:
    add_dags(add_dag_file)
    with transaction(session_factory) as session:
        for minutes, dag_id, kind in (
            (2, "etl", "non-existent pool"),
            (1, "etl", "dataset conflict"),
            (3, "reports", "non-existent pool"),
        ):
            session.add(
                DagWarningRow(
                    dag_id=dag_id,
                    warning_type=kind,
                    message=f"{dag_id}: {kind}",
                    timestamp=WHEN + timedelta(minutes=minutes),
                )
            )


def listed(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.status_code == 200, response.text
    return [(item["dag_id"], item["warning_type"]) for item in response.json()["dag_warnings"]]


@pytest.mark.usefixtures("warnings")
def test_dag_warnings_by_time_with_filters(client: httpx.Client) -> None:
    everything = client.get("/dagWarnings")
    assert listed(everything) == [
        ("etl", "dataset conflict"),
        ("etl", "non-existent pool"),
        ("reports", "non-existent pool"),
    ]
    assert everything.json()["total_entries"] == 3
    assert everything.json()["dag_warnings"][0] == {
        "dag_id": "etl",
        "warning_type": "dataset conflict",
        "message": "etl: dataset conflict",
        "timestamp": "2024-05-01T00:01:00Z",
    }
    assert listed(client.get("/dagWarnings", params={"dag_id": "etl"})) == [
        ("etl", "dataset conflict"),
        ("etl", "non-existent pool"),
    ]
    pool = client.get("/dagWarnings", params={"warning_type": "non-existent pool"})
    assert listed(pool) == [("etl", "non-existent pool"), ("reports", "non-existent pool")]

    page = client.get("/dagWarnings", params={"order_by": "-timestamp", "limit": 1, "offset": 1})
    assert listed(page) == [("etl", "non-existent pool")]
    assert page.json()["total_entries"] == 3

    bad = client.get("/dagWarnings", params={"order_by": "colour"})
    assert bad.status_code == 400 and "colour" in bad.json()["detail"]


@pytest.mark.usefixtures("warnings")
def test_dag_warning_permissions(
    client_as: Callable[[str], httpx.Client], session_factory: Factory
) -> None:
    assert len(listed(client_as("viewer").get("/dagWarnings"))) == 3
    assert client_as("public").get("/dagWarnings").status_code == 403

    add_user_with(session_factory, "etl_reader", [(READ, "DAG:etl"), (READ, DAG_WARNING)])
    reader = client_as("etl_reader")
    assert [dag_id for dag_id, _ in listed(reader.get("/dagWarnings"))] == ["etl", "etl"]
    assert reader.get("/dagWarnings", params={"dag_id": "reports"}).status_code == 403
