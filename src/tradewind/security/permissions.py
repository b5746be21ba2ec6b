"""Who may do what: Airflow's resources, actions and default roles, and checking them.

A permission is an (action, resource) pair named exactly as in Airflow 2
(``("can_read", "DAG Runs")``), so roles an Airflow operator wrote by hand, the API's
``/permissions`` and ``/roles`` answers, and DAGs' ``access_control`` mean the same here.

The five default roles carry Airflow's default permission sets: ``Viewer`` reads,
``User`` also runs and changes DAGs, ``Op`` also manages connections, pools, variables
and configuration, ``Admin`` may do everything (users and roles included), ``Public``
nothing. :func:`sync_default_roles` writes them at start-up; it adds missing permissions
to the default roles and never removes what an operator granted.

Per-DAG permissions use resources named ``DAG:<dag_id>`` (``DAG Run:<dag_id>`` for runs),
as Airflow's ``access_control`` does: a role holding ``can_read`` on ``DAG:etl`` may read
that one DAG even without ``can_read`` on ``DAGs``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.storage.tables import PermissionRow, RoleRow, UserRow

READ = "can_read"
EDIT = "can_edit"
CREATE = "can_create"
DELETE = "can_delete"
MENU = "menu_access"
ACTIONS = (READ, EDIT, CREATE, DELETE, MENU)

AUDIT_LOG = "Audit Logs"
CLUSTER_ACTIVITY = "Cluster Activity"
CONFIG = "Configurations"
CONNECTION = "Connections"
DAG = "DAGs"
DAG_CODE = "DAG Code"
DAG_DEPENDENCIES = "DAG Dependencies"
DAG_RUN = "DAG Runs"
DAG_WARNING = "DAG Warnings"
DATASET = "Datasets"
IMPORT_ERROR = "ImportError"
JOB = "Jobs"
MY_PASSWORD = "My Password"
MY_PROFILE = "My Profile"
PASSWORD = "Passwords"
PERMISSION = "Permission Views"
PLUGIN = "Plugins"
POOL = "Pools"
PROVIDER = "Providers"
ROLE = "Roles"
SLA_MISS = "SLA Misses"
TASK_INSTANCE = "Task Instances"
TASK_LOG = "Task Logs"
TASK_RESCHEDULE = "Task Reschedules"
TRIGGER = "Triggers"
USER = "Users"
VARIABLE = "Variables"
WEBSITE = "Website"
XCOM = "XComs"

#: Prefix of per-DAG resources (``DAG:etl``), as in Airflow's ``access_control``.
DAG_PREFIX = "DAG:"
#: Prefix of per-DAG run resources (``DAG Run:etl``), Airflow 2.7+.
DAG_RUN_PREFIX = "DAG Run:"

Permission = tuple[str, str]

VIEWER_PERMISSIONS: tuple[Permission, ...] = (
    (READ, AUDIT_LOG),
    (READ, CLUSTER_ACTIVITY),
    (READ, DAG),
    (READ, DAG_CODE),
    (READ, DAG_DEPENDENCIES),
    (READ, DAG_RUN),
    (READ, DAG_WARNING),
    (READ, DATASET),
    (READ, IMPORT_ERROR),
    (READ, JOB),
    (READ, MY_PASSWORD),
    (EDIT, MY_PASSWORD),
    (READ, MY_PROFILE),
    (EDIT, MY_PROFILE),
    (READ, PLUGIN),
    (READ, SLA_MISS),
    (READ, TASK_INSTANCE),
    (READ, TASK_LOG),
    (READ, WEBSITE),
    (READ, XCOM),
)

USER_PERMISSIONS: tuple[Permission, ...] = (
    (EDIT, DAG),
    (DELETE, DAG),
    (CREATE, DAG_RUN),
    (EDIT, DAG_RUN),
    (DELETE, DAG_RUN),
    (CREATE, DATASET),
    (CREATE, TASK_INSTANCE),
    (EDIT, TASK_INSTANCE),
    (DELETE, TASK_INSTANCE),
)

OP_PERMISSIONS: tuple[Permission, ...] = (
    (READ, CONFIG),
    (CREATE, CONNECTION),
    (READ, CONNECTION),
    (EDIT, CONNECTION),
    (DELETE, CONNECTION),
    (DELETE, DATASET),
    (CREATE, POOL),
    (READ, POOL),
    (EDIT, POOL),
    (DELETE, POOL),
    (READ, PROVIDER),
    (CREATE, VARIABLE),
    (READ, VARIABLE),
    (EDIT, VARIABLE),
    (DELETE, VARIABLE),
    (DELETE, XCOM),
)

ADMIN_ONLY_PERMISSIONS: tuple[Permission, ...] = (
    (READ, PASSWORD),
    (EDIT, PASSWORD),
    (READ, PERMISSION),
    (CREATE, ROLE),
    (READ, ROLE),
    (EDIT, ROLE),
    (DELETE, ROLE),
    (READ, TASK_RESCHEDULE),
    (READ, TRIGGER),
    (CREATE, USER),
    (READ, USER),
    (EDIT, USER),
    (DELETE, USER),
)

#: Every role's default permissions; each includes the permissions of the one before.
DEFAULT_ROLES: dict[str, tuple[Permission, ...]] = {
    "Public": (),
    "Viewer": VIEWER_PERMISSIONS,
    "User": VIEWER_PERMISSIONS + USER_PERMISSIONS,
    "Op": VIEWER_PERMISSIONS + USER_PERMISSIONS + OP_PERMISSIONS,
    "Admin": VIEWER_PERMISSIONS + USER_PERMISSIONS + OP_PERMISSIONS + ADMIN_ONLY_PERMISSIONS,
}
ADMIN_ROLE = "Admin"
#: Every permission Tradewind knows (the default ones; per-DAG ones are made on demand).
ALL_PERMISSIONS: tuple[Permission, ...] = DEFAULT_ROLES[ADMIN_ROLE]


@dataclass(frozen=True)
class Grants:
    """The permissions one user holds through all their roles, ready to check.

    ``is_admin``: an ``Admin`` may do everything, including permissions made after the
    role was synced (per-DAG ones), as in Airflow.
    """

    permissions: frozenset[Permission]
    is_admin: bool = False

    def allows(self, action: str, resource: str) -> bool:
        return self.is_admin or (action, resource) in self.permissions

    def allows_dag(self, action: str, dag_id: str, resource: str = DAG) -> bool:
        """Whether ``action`` is allowed on one DAG: on all DAGs, or on ``DAG:<dag_id>``.

        ``resource`` is :data:`DAG` or :data:`DAG_RUN`; the latter also accepts
        ``DAG Run:<dag_id>``.
        """
        if self.allows(action, resource) or self.allows(action, DAG_PREFIX + dag_id):
            return True
        return resource == DAG_RUN and self.allows(action, DAG_RUN_PREFIX + dag_id)

    def dag_filter(self, action: str, resource: str = DAG) -> frozenset[str] | None:
        """The DAG ids ``action`` is allowed on, or None when it is allowed on all DAGs."""
        if self.allows(action, resource):
            return None
        prefixes = (DAG_PREFIX, DAG_RUN_PREFIX) if resource == DAG_RUN else (DAG_PREFIX,)
        return frozenset(
            name[len(prefix) :]
            for held_action, name in self.permissions
            if held_action == action
            for prefix in prefixes
            if name.startswith(prefix)
        )


def grants_of(user: UserRow) -> Grants:
    """What ``user`` may do, through all of their roles (an inactive user: nothing)."""
    if not user.active:
        return Grants(frozenset())
    held = frozenset(
        (permission.action, permission.resource)
        for role in user.roles
        for permission in role.permissions
    )
    return Grants(held, is_admin=any(role.name == ADMIN_ROLE for role in user.roles))


def ensure_permissions(session: Session, wanted: Iterable[Permission]) -> list[PermissionRow]:
    """The rows of ``wanted`` permissions, creating those that do not exist yet."""
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return []
    existing = {
        (row.action, row.resource): row
        for row in session.scalars(
            sa.select(PermissionRow).where(
                sa.tuple_(PermissionRow.action, PermissionRow.resource).in_(wanted)
            )
        )
    }
    for action, resource in wanted:
        if (action, resource) not in existing:
            row = PermissionRow(action=action, resource=resource)
            session.add(row)
            existing[(action, resource)] = row
    session.flush()
    return [existing[pair] for pair in wanted]


def sync_default_roles(session: Session) -> None:
    """Create the default roles and give each at least its default permissions.

    Permissions an operator added to a default role stay; nothing is ever removed.
    Idempotent and cheap when nothing is missing, so every process may call it at start.
    """
    rows = {(row.action, row.resource): row for row in ensure_permissions(session, ALL_PERMISSIONS)}
    existing = {role.name: role for role in session.scalars(sa.select(RoleRow))}
    for name, defaults in DEFAULT_ROLES.items():
        role = existing.get(name)
        if role is None:
            role = RoleRow(name=name)
            session.add(role)
        held = {(p.action, p.resource) for p in role.permissions}
        role.permissions.extend(rows[pair] for pair in defaults if pair not in held)
    session.flush()
