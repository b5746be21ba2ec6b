"""``/connections``: connections to external systems, and testing one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from tradewind.api.connection_probe import probe_connection
from tradewind.api.deps import DbDep, PageDep, SettingsDep, requires
from tradewind.api.model_response import model_response
from tradewind.api.ordering import column_order
from tradewind.api.schemas.connection import (
    COLUMNS,
    Connection,
    ConnectionBody,
    ConnectionCollection,
    ConnectionTest,
)
from tradewind.api.update_mask import update_mask_param
from tradewind.errors import InvalidInput, PermissionDenied
from tradewind.security.permissions import CONNECTION, CREATE, DELETE, EDIT, READ
from tradewind.storage.repositories import connections

router = APIRouter(tags=["Connection"])

UpdateMask = Annotated[list[str] | None, Depends(update_mask_param)]


@router.get(
    "/connections",
    name="get_connections",
    dependencies=[requires(READ, CONNECTION)],
    response_model=ConnectionCollection,
)
def get_connections(db: DbDep, page: PageDep) -> Response:
    with db.read() as session:
        found = connections.list_connections(
            session,
            limit=page.limit,
            offset=page.offset,
            # Airflow's default order is by id: the order connections were created in.
            order_by=column_order(page.order_by, COLUMNS) or "id",
        )
        return model_response(ConnectionCollection.from_page(found))


@router.post("/connections", name="post_connection", dependencies=[requires(CREATE, CONNECTION)])
def post_connection(body: ConnectionBody, db: DbDep) -> Connection:
    body.require("connection_id", "conn_type")
    columns = body.columns()
    connections.check_conn_id(columns["conn_id"])
    with db.write(connection_id=columns["conn_id"]) as session:
        row = connections.create_connection(session, **columns)
        return Connection.from_row(row)


@router.post(
    "/connections/test", name="test_connection", dependencies=[requires(CREATE, CONNECTION)]
)
def test_connection(body: ConnectionBody, settings: SettingsDep) -> ConnectionTest:
    if settings.core.test_connection.strip().lower() != "enabled":
        raise PermissionDenied(
            "Testing connections is disabled in Tradewind configuration. "
            "Contact your deployment admin to enable it."
        )
    body.require("conn_type")
    result = probe_connection(str(body.conn_type), body.host, body.port)
    return ConnectionTest(status=result.status, message=result.message)


@router.get(
    "/connections/{connection_id}",
    name="get_connection",
    dependencies=[requires(READ, CONNECTION)],
)
def get_connection(connection_id: str, db: DbDep) -> Connection:
    with db.read() as session:
        return Connection.from_row(connections.require_connection(session, connection_id))


@router.patch(
    "/connections/{connection_id}",
    name="patch_connection",
    dependencies=[requires(EDIT, CONNECTION)],
)
def patch_connection(
    connection_id: str, body: ConnectionBody, db: DbDep, update_mask: UpdateMask
) -> Connection:
    if body.connection_id is not None and body.connection_id != connection_id:
        raise InvalidInput("The connection_id cannot be updated.")
    changes = body.changes(update_mask)
    with db.write(connection_id=connection_id, changes=sorted(changes)) as session:
        row = connections.update_connection(session, connection_id, changes)
        return Connection.from_row(row)


@router.delete(
    "/connections/{connection_id}",
    name="delete_connection",
    status_code=204,
    dependencies=[requires(DELETE, CONNECTION)],
)
def delete_connection(connection_id: str, db: DbDep) -> Response:
    with db.write(connection_id=connection_id) as session:
        connections.delete_connection(session, connection_id)
    return Response(status_code=204)
