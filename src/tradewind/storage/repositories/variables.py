"""Variables (API ``/variables``, CLI ``variables``, templates' ``var.value``/``var.json``).

Values are plaintext here; :class:`~tradewind.storage.fernet.EncryptedText` encrypts them
at rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import InvalidInput, NotFound
from tradewind.storage.pagination import DEFAULT_LIMIT, Page, paginate
from tradewind.storage.repositories._queries import order_clauses
from tradewind.storage.repositories._writes import apply_changes, unique_write
from tradewind.storage.tables import VariableRow

UPDATABLE = ("val", "description")
#: Columns ``list_variables`` may order by (Airflow's; ``val`` orders by ciphertext).
ORDERABLE = ("key", "val", "id")


def get_variable(session: Session, key: str) -> VariableRow | None:
    return session.scalar(sa.select(VariableRow).where(VariableRow.key == key))


def require_variable(session: Session, key: str) -> VariableRow:
    """Raises NotFound when there is no variable ``key``."""
    variable = get_variable(session, key)
    if variable is None:
        raise NotFound(f"Variable does not exist: {key}")
    return variable


def get_variable_value(session: Session, key: str) -> str | None:
    """The decrypted value of ``key``; None when the variable is missing (or its value is)."""
    variable = get_variable(session, key)
    return None if variable is None else variable.val


def list_variables(
    session: Session,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    order_by: str | None = None,
) -> Page[VariableRow]:
    """Variables ordered by ``order_by`` (``key`` or ``-id``; by key when None).

    Raises:
        InvalidInput: ``order_by`` names a column not in :data:`ORDERABLE`.
    """
    order = order_clauses(VariableRow, order_by or "key", ORDERABLE)
    query = sa.select(VariableRow).order_by(*order)
    return paginate(session, query, limit=limit, offset=offset)


def create_variable(
    session: Session, key: str, val: str, *, description: str | None = None
) -> VariableRow:
    """Raises AlreadyExists when ``key`` is taken, InvalidInput when it is empty."""
    _validate_key(key)
    variable = VariableRow(key=key, val=val, description=description)
    with unique_write(session, f"Variable already exists: {key}"):
        session.add(variable)
    return variable


def set_variable(
    session: Session, key: str, val: str, *, description: str | None = None
) -> VariableRow:
    """Create ``key`` or overwrite its value (``tradewind variables set``, ``Variable.set``).

    The description is kept when None is given for an existing variable.
    """
    variable = get_variable(session, key)
    if variable is None:
        return create_variable(session, key, val, description=description)
    variable.val = val
    if description is not None:
        variable.description = description
    session.flush()
    return variable


def update_variable(session: Session, key: str, changes: Mapping[str, Any]) -> VariableRow:
    """Apply ``changes`` (``val``, ``description``). Raises NotFound or InvalidInput."""
    variable = require_variable(session, key)
    apply_changes(variable, changes, UPDATABLE)
    session.flush()
    return variable


def delete_variable(session: Session, key: str) -> None:
    """Raises NotFound when there is no variable ``key``."""
    session.delete(require_variable(session, key))
    session.flush()


def _validate_key(key: str) -> None:
    if not key or not key.strip():
        raise InvalidInput("A variable needs a non-empty key")
