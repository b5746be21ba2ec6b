"""Pools: the slot budgets the scheduler fills (API ``/pools``, CLI ``pools``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import InvalidInput, NotFound
from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate
from tradewind.storage.repositories._writes import apply_changes, unique_write
from tradewind.storage.tables import DEFAULT_POOL_NAME, PoolRow

UPDATABLE = ("name", "slots", "description", "include_deferred")


def get_pool(session: Session, name: str) -> PoolRow | None:
    return session.scalar(sa.select(PoolRow).where(PoolRow.name == name))


def require_pool(session: Session, name: str) -> PoolRow:
    """Raises NotFound when there is no pool ``name``."""
    pool = get_pool(session, name)
    if pool is None:
        raise NotFound(f"Pool with name: '{name}' not found")
    return pool


def list_pools(session: Session, *, limit: int = DEFAULT_LIMIT, offset: int = 0) -> Page[PoolRow]:
    """Pools ordered by name (``default_pool`` sorts among them)."""
    return paginate(session, sa.select(PoolRow).order_by(PoolRow.name), limit=limit, offset=offset)


def create_pool(
    session: Session,
    name: str,
    slots: int,
    *,
    description: str | None = None,
    include_deferred: bool = False,
) -> PoolRow:
    """Raises AlreadyExists for a taken name and InvalidInput for bad slots or name."""
    _validate(name, slots)
    pool = PoolRow(
        name=name, slots=slots, description=description, include_deferred=include_deferred
    )
    with unique_write(session, f"Pool: {name} already exists"):
        session.add(pool)
    return pool


def update_pool(session: Session, name: str, changes: Mapping[str, Any]) -> PoolRow:
    """Apply ``changes`` (fields of :data:`UPDATABLE`); ``default_pool`` cannot be renamed.

    Raises:
        NotFound: no such pool.
        InvalidInput: unknown field, bad slots, or renaming ``default_pool``.
    """
    pool = require_pool(session, name)
    new_name = changes.get("name", name)
    if name == DEFAULT_POOL_NAME and new_name != name:
        raise InvalidInput("default_pool's name can't be modified")
    _validate(new_name, changes.get("slots", pool.slots))
    with unique_write(session, f"Pool: {new_name} already exists"):
        apply_changes(pool, changes, UPDATABLE)
    return pool


def delete_pool(session: Session, name: str) -> None:
    """Raises NotFound for an unknown pool and InvalidInput for ``default_pool``."""
    if name == DEFAULT_POOL_NAME:
        raise InvalidInput("default_pool cannot be deleted")
    session.delete(require_pool(session, name))
    session.flush()


def _validate(name: str, slots: int) -> None:
    if not name or not name.strip():
        raise InvalidInput("A pool needs a non-empty name")
    if slots < -1:
        raise InvalidInput(f"Pool slots must be >= 0, or -1 for unlimited; got {slots}")
