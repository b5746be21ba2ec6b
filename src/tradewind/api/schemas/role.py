"""``Role``, ``RoleCollection`` and ``ActionCollection``: permission sets and actions.

A role's permissions appear as ``actions``: ``[{"action": {"name": "can_read"},
"resource": {"name": "DAGs"}}]``, the same shape in requests and responses.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from tradewind.api.schemas.base import RequestBody, ResponseBody
from tradewind.security.permissions import Permission
from tradewind.storage.tables import RoleRow


class Action(ResponseBody):
    name: str


class Resource(ResponseBody):
    name: str


class ActionResource(ResponseBody):
    action: Action
    resource: Resource


class Role(ResponseBody):
    name: str
    actions: list[ActionResource]

    @classmethod
    def from_row(cls, row: RoleRow) -> Role:
        pairs = sorted((p.resource, p.action) for p in row.permissions)
        return cls(
            name=row.name,
            actions=[
                ActionResource(action=Action(name=action), resource=Resource(name=resource))
                for resource, action in pairs
            ],
        )


class RoleCollection(ResponseBody):
    roles: list[Role]
    total_entries: int

    @classmethod
    def from_rows(cls, rows: Sequence[RoleRow], total_entries: int) -> RoleCollection:
        return cls(roles=[Role.from_row(row) for row in rows], total_entries=total_entries)


class ActionCollection(ResponseBody):
    actions: list[Action]
    total_entries: int


class NameBody(RequestBody):
    name: str


class ActionResourceBody(RequestBody):
    action: NameBody
    resource: NameBody


class RoleBody(RequestBody):
    """POST /roles and PATCH /roles/{role_name}: a name and the permissions it grants."""

    name: str | None = Field(default=None, min_length=1, max_length=64)
    actions: list[ActionResourceBody] | None = None

    def permissions(self) -> list[Permission] | None:
        if self.actions is None:
            return None
        return [(item.action.name, item.resource.name) for item in self.actions]
