"""``/dagSources/{file_token}`` and ``/parseDagFile/{file_token}`` through real HTTP.

The source comes from the database, by a token the server signed; a re-parse request is
acted on by the next pass of a real DAG processor, which parses the file although it did
not change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from dag_support import ETL, AddDagFile, add_dags
from grants_support import add_user_with
from sqlalchemy.orm import Session, sessionmaker

from tradewind.api.file_tokens import FileTokens
from tradewind.config import Settings
from tradewind.dag_processing.processor import DagFileProcessor
from tradewind.security.permissions import DAG_CODE, EDIT, READ
from tradewind.storage.engine import transaction
from tradewind.storage.repositories.dag_parsing_requests import request_parsing
from tradewind.storage.tables import DagParsingRequestRow, DagRow

Factory = sessionmaker[Session]
ClientAs = Callable[[str], httpx.Client]


@pytest.fixture
def dags(add_dag_file: AddDagFile) -> None:
    add_dags(add_dag_file)


def token_of(client: httpx.Client, dag_id: str) -> str:
    token: str = client.get(f"/dags/{dag_id}").json()["file_token"]
    return token


@pytest.mark.usefixtures("dags")
def test_source_as_text_or_json_by_accept_header(client: httpx.Client) -> None:
    token = token_of(client, "etl")
    expected = ETL.lstrip("\n")

    anything = client.get(f"/dagSources/{token}")  # httpx sends Accept: */*
    assert anything.status_code == 200, anything.text
    assert anything.headers["content-type"].startswith("text/plain")
    assert anything.text.strip() == expected.strip()

    as_json = client.get(f"/dagSources/{token}", headers={"Accept": "application/json"})
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.json()["content"] == anything.text

    preferred = client.get(
        f"/dagSources/{token}", headers={"Accept": "text/plain;q=0.5, application/json"}
    )
    assert preferred.json() == {"content": anything.text}

    refused = client.get(f"/dagSources/{token}", headers={"Accept": "application/xml"})
    assert refused.status_code == 406
    assert refused.headers["content-type"] == "application/problem+json"


@pytest.mark.usefixtures("dags")
def test_forged_or_unknown_tokens_are_404s(client: httpx.Client, api_settings: Settings) -> None:
    token = token_of(client, "etl")
    payload, signature = token.rsplit(".", 1)
    tampered = f"{payload}.{signature[:-2]}{'AB' if signature[-2:] != 'AB' else 'CD'}"
    elsewhere = api_settings.replace("webserver", secret_key="another deployment")
    forged = FileTokens(elsewhere).token_of("/etc/passwd")
    # Signed by this server, but no DAG file was stored under that path: never read from disk.
    signed = FileTokens(api_settings).token_of("/etc/passwd")
    for bad in (tampered, forged, signed, "not-a-token"):
        source = client.get(f"/dagSources/{bad}")
        assert source.status_code == 404, bad
        assert source.json()["detail"] == "Dag source not found"
        reparse = client.put(f"/parseDagFile/{bad}")
        assert reparse.status_code == 404, bad
        assert reparse.json()["detail"] == "File not found"


@pytest.mark.usefixtures("dags")
def test_source_and_reparse_permissions(client_as: ClientAs, session_factory: Factory) -> None:
    admin = client_as("admin")
    etl, reports = token_of(admin, "etl"), token_of(admin, "reports")

    viewer = client_as("viewer")
    assert viewer.get(f"/dagSources/{etl}").status_code == 200
    assert viewer.put(f"/parseDagFile/{etl}").status_code == 403
    assert client_as("public").get(f"/dagSources/{etl}").status_code == 403
    assert client_as("user").put(f"/parseDagFile/{etl}").status_code == 201

    add_user_with(
        session_factory, "etl_dev", [(READ, "DAG:etl"), (EDIT, "DAG:etl"), (READ, DAG_CODE)]
    )
    dev = client_as("etl_dev")
    assert dev.get(f"/dagSources/{etl}").status_code == 200
    assert dev.get(f"/dagSources/{reports}").status_code == 403
    assert dev.put(f"/parseDagFile/{etl}").status_code == 201
    assert dev.put(f"/parseDagFile/{reports}").status_code == 403

    add_user_with(session_factory, "etl_reader", [(READ, "DAG:etl")])
    assert client_as("etl_reader").get(f"/dagSources/{etl}").status_code == 403


def test_reparse_request_makes_the_processor_parse_the_unchanged_file_first(
    client: httpx.Client,
    add_dag_file: AddDagFile,
    api_settings: Settings,
    session_factory: Factory,
) -> None:
    add_dags(add_dag_file)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    now = [start]
    processor = DagFileProcessor(
        api_settings.core,
        api_settings.replace("scheduler", min_file_process_interval=3600).scheduler,
        session_factory,
        clock=lambda: now[0],
    )
    processor.process_folder_once()
    assert parsed_at(session_factory) == {"adhoc": start, "etl": start, "reports": start}

    token = token_of(client, "etl")
    assert client.put(f"/parseDagFile/{token}").status_code == 201
    assert client.put(f"/parseDagFile/{token}").status_code == 201  # one request, still
    with transaction(session_factory) as session:
        request_parsing(session, "/etc/passwd")  # not a DAG file: dropped, never imported
        assert pending(session) == 2

    now[0] = start + timedelta(seconds=10)
    stats = processor.process_folder_once()
    assert stats.parsed == 1
    assert parsed_at(session_factory) == {"adhoc": start, "etl": now[0], "reports": start}
    with transaction(session_factory) as session:
        assert pending(session) == 0

    now[0] = start + timedelta(seconds=20)
    assert processor.process_folder_once().parsed == 0


def parsed_at(session_factory: Factory) -> dict[str, datetime | None]:
    with transaction(session_factory) as session:
        rows = session.execute(sa.select(DagRow.dag_id, DagRow.last_parsed_time))
        return {dag_id: parsed for dag_id, parsed in rows}


def pending(session: Session) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(DagParsingRequestRow)) or 0)
