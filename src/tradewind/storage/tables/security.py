"""Users, roles, permissions and API tokens, for the API's authentication backends.

Permissions are (action, resource) pairs named as in Airflow 2 (``can_read``,
``DAG Runs``), so role definitions and the API's ``Role.actions`` look familiar. Only
hashes of passwords and API tokens are stored.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tradewind.storage.column_types import UtcDateTime, utcnow
from tradewind.storage.tables.base import Base

role_permission = sa.Table(
    "role_permission",
    Base.metadata,
    sa.Column("role_id", sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "permission_id", sa.ForeignKey("permission.id", ondelete="CASCADE"), primary_key=True
    ),
)

user_role = sa.Table(
    "user_role",
    Base.metadata,
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role_id", sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
)


class PermissionRow(Base):
    """One action on one resource (API ``ActionResource``)."""

    __tablename__ = "permission"
    __table_args__ = (sa.UniqueConstraint("action", "resource"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(sa.String(100))
    resource: Mapped[str] = mapped_column(sa.String(250))


class RoleRow(Base):
    """A named set of permissions (API ``Role``)."""

    __tablename__ = "role"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)

    permissions: Mapped[list[PermissionRow]] = relationship(
        secondary=role_permission, lazy="selectin"
    )


class UserRow(Base):
    """A person or service account (API ``User``)."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(sa.String(256), unique=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    first_name: Mapped[str] = mapped_column(sa.String(256), default="")
    last_name: Mapped[str] = mapped_column(sa.String(256), default="")
    active: Mapped[bool] = mapped_column(default=True)
    #: A self-describing hash (algorithm and salt included); NULL disables password login.
    password_hash: Mapped[str | None] = mapped_column(sa.String(256))
    last_login: Mapped[datetime | None] = mapped_column(UtcDateTime)
    login_count: Mapped[int] = mapped_column(default=0)
    failed_login_count: Mapped[int] = mapped_column(default=0)
    created_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    changed_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    roles: Mapped[list[RoleRow]] = relationship(secondary=user_role, lazy="selectin")


class ApiTokenRow(Base):
    """A bearer token of a user. The token itself is shown once; only its hash is kept."""

    __tablename__ = "api_token"
    __table_args__ = (sa.Index("ix_api_token_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(256))
    #: SHA-256 hex of the token: tokens are long and random, so no salt is needed.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked: Mapped[bool] = mapped_column(default=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


#: One row (``id = 1``) whose ``generation`` grows whenever anything a login proves
#: changes: users' names, passwords or activity, roles, their permissions and members,
#: API tokens. Database triggers (migration 0003) bump it in the same transaction as the
#: change, whoever makes it (API, CLI, another process, an operator's SQL), so a process
#: may trust a principal it verified earlier for as long as the number reads the same.
#: See :mod:`tradewind.security.generation`.
security_generation = sa.Table(
    "security_generation",
    Base.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("generation", sa.BigInteger, nullable=False),
)
