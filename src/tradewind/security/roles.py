"""Roles: named sets of (action, resource) permissions, as the API and CLI manage them.

A role's permissions are replaced as a whole (:func:`update_role`); each pair must name
a known action (one of :data:`~tradewind.security.permissions.ACTIONS` or one already
granted somewhere) and a known resource (one already granted somewhere, one of
Airflow's, or a per-DAG ``DAG:<dag_id>`` / ``DAG Run:<dag_id>``), so a typo such as
``can_raed`` is refused instead of granting nothing.

Functions take the session first and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import AlreadyExists, InvalidInput, NotFound
from tradewind.security.permissions import (
    ACTIONS,
    ALL_PERMISSIONS,
    DAG_PREFIX,
    DAG_RUN_PREFIX,
    Permission,
    ensure_permissions,
)
from tradewind.security.users import get_role
from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate
from tradewind.storage.repositories._queries import order_clauses
from tradewind.storage.repositories._writes import unique_write
from tradewind.storage.tables import PermissionRow, RoleRow, user_role

#: Fields :func:`update_role` may change; ``actions`` replaces the role's permissions.
UPDATABLE = ("name", "actions")
#: Columns :func:`list_roles` may order by (``role_id`` is Airflow's name for ``id``).
ORDERABLE = ("id", "name")


def require_role(session: Session, name: str) -> RoleRow:
    """Raises NotFound when there is no role ``name``."""
    role = get_role(session, name)
    if role is None:
        raise NotFound(f"Role with name {name!r} was not found")
    return role


def list_roles(
    session: Session,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    order_by: str | None = None,
) -> Page[RoleRow]:
    """Roles ordered by ``order_by`` (``name`` when None), with their permissions.

    Raises:
        InvalidInput: ``order_by`` is neither ``name`` nor ``role_id``/``id``.
    """
    wanted = (order_by or "name").replace("role_id", "id")
    query = sa.select(RoleRow).order_by(*order_clauses(RoleRow, wanted, ORDERABLE))
    return paginate(session, query, limit=limit, offset=offset)


def list_actions(session: Session) -> list[str]:
    """Every action name: Airflow's, then any other one granted, alphabetically."""
    stored = session.scalars(sa.select(PermissionRow.action).distinct())
    others = sorted(set(stored) - set(ACTIONS))
    return [*ACTIONS, *others]


def create_role(session: Session, name: str, permissions: Sequence[Permission] = ()) -> RoleRow:
    """Create the role ``name`` holding ``permissions``.

    Raises:
        InvalidInput: a blank name, or an unknown action or resource.
        AlreadyExists: the name is taken.
    """
    if not name.strip():
        raise InvalidInput("A role name must not be blank")
    if get_role(session, name) is not None:
        raise AlreadyExists(
            f"Role with name {name!r} already exists; please update with the PATCH endpoint"
        )
    check_permissions(session, permissions)
    role = RoleRow(name=name, permissions=ensure_permissions(session, permissions))
    with unique_write(session, f"Role with name {name!r} already exists"):
        session.add(role)
    return role


def update_role(session: Session, name: str, changes: Mapping[str, Any]) -> RoleRow:
    """Rename the role (``name``) and/or replace its permissions (``actions``: pairs).

    Raises:
        NotFound: no such role.
        InvalidInput: an unknown field, a blank or null name, an unknown action/resource.
        AlreadyExists: the new name is taken.
    """
    role = require_role(session, name)
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise InvalidInput(f"Cannot update {', '.join(unknown)}")
    if "actions" in changes:
        pairs = list(changes["actions"] or ())
        check_permissions(session, pairs)
        role.permissions = ensure_permissions(session, pairs)
    if "name" in changes:
        new_name = changes["name"]
        if new_name is None or not new_name.strip():
            raise InvalidInput("A role name must not be blank")
        if new_name != name and get_role(session, new_name) is not None:
            raise AlreadyExists(f"Role with name {new_name!r} already exists")
        role.name = new_name
    with unique_write(session, f"Role with name {role.name!r} already exists"):
        session.flush()
    return role


def delete_role(session: Session, name: str) -> None:
    """Delete the role ``name``; users holding it lose it (as in Airflow).

    Raises:
        NotFound: no such role.
    """
    role = require_role(session, name)
    session.execute(sa.delete(user_role).where(user_role.c.role_id == role.id))
    session.delete(role)
    session.flush()


def check_permissions(session: Session, pairs: Iterable[Permission]) -> None:
    """Refuse pairs naming an unknown action or resource (checked in order, one error).

    Raises:
        InvalidInput: ``The specified action: 'x' was not found`` (or ``resource``).
    """
    pairs = list(pairs)
    if not pairs:
        return
    actions = set(list_actions(session))
    resources = {resource for _action, resource in ALL_PERMISSIONS}
    resources.update(session.scalars(sa.select(PermissionRow.resource).distinct()))
    for action, resource in pairs:
        if action not in actions:
            raise InvalidInput(f"The specified action: {action!r} was not found")
        if resource not in resources and not _is_dag_resource(resource):
            raise InvalidInput(f"The specified resource: {resource!r} was not found")


def _is_dag_resource(resource: str) -> bool:
    return any(
        resource.startswith(prefix) and len(resource) > len(prefix)
        for prefix in (DAG_PREFIX, DAG_RUN_PREFIX)
    )
