"""Users holding exactly some permissions, for per-DAG access tests."""

from __future__ import annotations

from collections.abc import Iterable

from api_support import PASSWORD_HASH
from sqlalchemy.orm import Session, sessionmaker

from tradewind.security.permissions import Permission, ensure_permissions
from tradewind.storage.engine import transaction
from tradewind.storage.tables import RoleRow, UserRow


def add_user_with(
    session_factory: sessionmaker[Session], username: str, permissions: Iterable[Permission]
) -> None:
    """Add ``username`` (password ``api_support.PASSWORD``) with one role of ``permissions``."""
    with transaction(session_factory) as session:
        role = RoleRow(
            name=f"{username}-role", permissions=ensure_permissions(session, permissions)
        )
        session.add(
            UserRow(
                username=username,
                email=f"{username}@example.com",
                first_name=username,
                last_name="Tester",
                active=True,
                password_hash=PASSWORD_HASH,
                roles=[role],
            )
        )
