"""Pools, variables and connections repositories: the verbs the API and the CLI use."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import AlreadyExists, InvalidInput, NotFound
from tradewind.storage.repositories import connections, pools, variables
from tradewind.storage.tables import PoolRow

pytestmark = pytest.mark.db


def test_default_pool_exists_with_128_slots(session: Session) -> None:
    pool = pools.require_pool(session, "default_pool")
    assert (pool.slots, pool.description, pool.include_deferred) == (128, "Default pool", False)


def test_pool_lifecycle(session: Session) -> None:
    pools.create_pool(session, "etl", 4, description="nightly")
    session.commit()

    assert pools.get_pool(session, "etl") is not None
    page = pools.list_pools(session, limit=1, offset=0)
    assert page.total_entries == 2 and [p.name for p in page.items] == ["default_pool"]

    pools.update_pool(session, "etl", {"slots": 8, "include_deferred": True})
    assert pools.require_pool(session, "etl").slots == 8

    pools.delete_pool(session, "etl")
    assert pools.get_pool(session, "etl") is None
    with pytest.raises(NotFound, match="'etl' not found"):
        pools.require_pool(session, "etl")


def test_duplicate_pool_raises_and_keeps_the_transaction_usable(session: Session) -> None:
    pools.create_pool(session, "etl", 4)
    with pytest.raises(AlreadyExists, match="etl"):
        pools.create_pool(session, "etl", 5)

    pools.create_pool(session, "other", 1)
    session.commit()
    names = set(session.scalars(sa.select(PoolRow.name)))
    assert names == {"default_pool", "etl", "other"}


def test_renaming_a_pool_onto_another_raises_already_exists(session: Session) -> None:
    pools.create_pool(session, "a", 1)
    pools.create_pool(session, "b", 1)
    with pytest.raises(AlreadyExists, match="Pool: b already exists"):
        pools.update_pool(session, "a", {"name": "b"})


def test_default_pool_is_protected(session: Session) -> None:
    with pytest.raises(InvalidInput, match="cannot be deleted"):
        pools.delete_pool(session, "default_pool")
    with pytest.raises(InvalidInput, match="can't be modified"):
        pools.update_pool(session, "default_pool", {"name": "renamed"})
    with pytest.raises(InvalidInput, match="slots"):
        pools.update_pool(session, "default_pool", {"slots": -2})
    with pytest.raises(InvalidInput, match="Cannot update occupied_slots"):
        pools.update_pool(session, "default_pool", {"occupied_slots": 1})


def test_variable_lifecycle(session: Session) -> None:
    variables.create_variable(session, "region", "eu-west-1", description="AWS")
    with pytest.raises(AlreadyExists):
        variables.create_variable(session, "region", "us-east-1")
    session.commit()

    assert variables.get_variable_value(session, "region") == "eu-west-1"
    assert variables.get_variable_value(session, "missing") is None

    variables.set_variable(session, "region", "us-east-1")
    variables.set_variable(session, "new", '{"a": 1}')
    assert variables.require_variable(session, "region").description == "AWS"
    assert [v.key for v in variables.list_variables(session).items] == ["new", "region"]

    variables.update_variable(session, "region", {"description": None})
    variables.delete_variable(session, "new")
    with pytest.raises(NotFound, match="Variable does not exist: new"):
        variables.delete_variable(session, "new")


def test_connection_lifecycle(session: Session) -> None:
    connections.create_connection(
        session, "warehouse", "postgres", host="db", port=5432, login="u", password="p"
    )
    session.commit()
    session.expire_all()

    conn = connections.require_connection(session, "warehouse")
    assert (conn.host, conn.port, conn.login, conn.password) == ("db", 5432, "u", "p")

    connections.update_connection(session, "warehouse", {"password": "q", "extra": "{}"})
    session.commit()
    session.expire_all()
    assert connections.require_connection(session, "warehouse").password == "q"
    assert connections.list_connections(session).total_entries == 1

    with pytest.raises(AlreadyExists):
        connections.create_connection(session, "warehouse", "http")
    connections.delete_connection(session, "warehouse")
    assert connections.get_connection(session, "warehouse") is None
