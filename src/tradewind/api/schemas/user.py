"""``UserCollectionItem``, ``UserCollection`` and the ``User`` request body.

The spec's ``User`` is ``UserCollectionItem`` plus a write-only ``password``: accepted
by POST and PATCH, never returned. Responses are therefore always
``UserCollectionItem``. The read-only fields (``active``, ``last_login``, the counts and
dates) cannot be written through the API, as in Airflow: sending one is a 400.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from tradewind.api.schemas.base import RequestBody, ResponseBody
from tradewind.storage.tables import UserRow


class UserRole(ResponseBody):
    name: str


class UserCollectionItem(ResponseBody):
    first_name: str
    last_name: str
    username: str
    email: str
    active: bool | None
    last_login: datetime | None
    login_count: int | None
    failed_login_count: int | None
    roles: list[UserRole]
    created_on: datetime | None
    changed_on: datetime | None

    @classmethod
    def from_row(cls, row: UserRow) -> UserCollectionItem:
        return cls(
            first_name=row.first_name,
            last_name=row.last_name,
            username=row.username,
            email=row.email,
            active=row.active,
            last_login=row.last_login,
            login_count=row.login_count,
            failed_login_count=row.failed_login_count,
            roles=[UserRole(name=role.name) for role in sorted(row.roles, key=lambda r: r.name)],
            created_on=row.created_on,
            changed_on=row.changed_on,
        )


class UserCollection(ResponseBody):
    users: list[UserCollectionItem]
    total_entries: int

    @classmethod
    def from_rows(cls, rows: list[UserRow], total_entries: int) -> UserCollection:
        return cls(
            users=[UserCollectionItem.from_row(row) for row in rows], total_entries=total_entries
        )


class RoleName(RequestBody):
    name: str


class UserBody(RequestBody):
    """POST /users and PATCH /users/{username}: the writable fields of a user."""

    first_name: str | None = None
    last_name: str | None = None
    username: str | None = Field(default=None, min_length=1)
    email: str | None = Field(default=None, min_length=1)
    roles: list[RoleName] | None = None
    password: str | None = Field(default=None, min_length=1)

    def role_names(self) -> list[str] | None:
        return None if self.roles is None else [role.name for role in self.roles]
