"""Pools: the slot budgets the scheduler fills (API ``/pools``, CLI ``pools``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import InvalidInput, NotFound
from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate
from tradewind.storage.repositories._queries import order_clauses
from tradewind.storage.repositories._writes import apply_changes, unique_write
from tradewind.storage.tables import DEFAULT_POOL_NAME, PoolRow, TaskInstanceRow

UPDATABLE = ("name", "slots", "description", "include_deferred")


@dataclass(frozen=True)
class PoolUsage:
    """Slots a pool's task instances take right now, by state."""

    running: int = 0
    queued: int = 0
    scheduled: int = 0
    deferred: int = 0


_USAGE_STATES = ("running", "queued", "scheduled", "deferred")


def get_pool(session: Session, name: str) -> PoolRow | None:
    return session.scalar(sa.select(PoolRow).where(PoolRow.name == name))


def require_pool(session: Session, name: str) -> PoolRow:
    """Raises NotFound when there is no pool ``name``."""
    pool = get_pool(session, name)
    if pool is None:
        raise NotFound(f"Pool with name: '{name}' not found")
    return pool


#: Columns ``list_pools`` may order by (Airflow's).
ORDERABLE = ("id", "name", "slots")


def list_pools(
    session: Session,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    order_by: str | None = None,
) -> Page[PoolRow]:
    """Pools ordered by ``order_by`` (``name`` or ``-slots``; by id when None).

    Raises:
        InvalidInput: ``order_by`` names a column not in :data:`ORDERABLE`.
    """
    query = sa.select(PoolRow).order_by(*order_clauses(PoolRow, order_by or "id", ORDERABLE))
    return paginate(session, query, limit=limit, offset=offset)


def pool_usage(session: Session, names: Collection[str]) -> dict[str, PoolUsage]:
    """Slot usage of the pools ``names``, in one grouped query (pools absent: unused)."""
    if not names:
        return {}
    query = (
        sa.select(
            TaskInstanceRow.pool,
            TaskInstanceRow.state,
            sa.func.coalesce(sa.func.sum(TaskInstanceRow.pool_slots), 0),
        )
        .where(TaskInstanceRow.pool.in_(list(names)), TaskInstanceRow.state.in_(_USAGE_STATES))
        .group_by(TaskInstanceRow.pool, TaskInstanceRow.state)
    )
    counts: dict[str, dict[str, int]] = {}
    for pool, state, slots in session.execute(query):
        counts.setdefault(pool, {})[str(state)] = int(slots)
    return {pool: PoolUsage(**by_state) for pool, by_state in counts.items()}


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
