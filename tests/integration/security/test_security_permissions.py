"""Default roles and what their holders may do."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tradewind.security import permissions as perms
from tradewind.security.users import create_user, get_role


def test_default_roles_are_created_once_and_keep_operator_grants(session: Session) -> None:
    perms.sync_default_roles(session)
    viewer = get_role(session, "Viewer")
    assert viewer is not None
    assert {(p.action, p.resource) for p in viewer.permissions} == set(perms.VIEWER_PERMISSIONS)
    extra = perms.ensure_permissions(session, [(perms.READ, perms.POOL)])
    viewer.permissions.extend(extra)
    session.commit()

    perms.sync_default_roles(session)
    session.commit()
    again = get_role(session, "Viewer")
    assert again is not None
    held = {(p.action, p.resource) for p in again.permissions}
    assert held == set(perms.VIEWER_PERMISSIONS) | {(perms.READ, perms.POOL)}
    assert get_role(session, "Public") is not None
    assert get_role(session, "Public").permissions == []  # type: ignore[union-attr]


def test_grants_follow_roles_and_dag_level_permissions(session: Session) -> None:
    perms.sync_default_roles(session)
    op = create_user(session, "op", None, email="op@example.com", roles=["Op"])
    admin = create_user(session, "boss", None, email="boss@example.com", roles=["Admin"])
    analyst = create_user(session, "ana", None, email="ana@example.com", roles=["Analyst"])
    role = get_role(session, "Analyst")
    assert role is not None
    role.permissions.extend(perms.ensure_permissions(session, [(perms.READ, "DAG:etl")]))
    session.commit()

    op_grants = perms.grants_of(op)
    assert op_grants.allows(perms.EDIT, perms.POOL)
    assert not op_grants.allows(perms.READ, perms.USER)
    assert perms.grants_of(admin).allows(perms.DELETE, perms.ROLE)
    assert perms.grants_of(admin).allows_dag(perms.EDIT, "anything")

    ana = perms.grants_of(analyst)
    assert ana.allows_dag(perms.READ, "etl") and not ana.allows_dag(perms.READ, "other")
    assert ana.dag_filter(perms.READ) == frozenset({"etl"})
    assert op_grants.dag_filter(perms.READ) is None

    op.active = False
    assert not perms.grants_of(op).allows(perms.READ, perms.DAG)
