"""Query pieces shared by repositories and the scheduler: ordering by a named column, date
ranges, an insert that skips rows already there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tradewind.errors import InvalidInput


def order_clauses(
    row_class: Any, order_by: str, allowed: Sequence[str], tiebreak: Sequence[str] = ("id",)
) -> list[sa.ColumnElement[Any]]:
    """``order_by`` (``name`` or ``-name``) as ORDER BY clauses, with the ``tiebreak``
    columns (the primary key: ``id`` unless told) after it so that pages never overlap
    or skip rows.

    Raises:
        InvalidInput: the column is not in ``allowed``.
    """
    name = order_by.removeprefix("-")
    if name not in allowed:
        raise InvalidInput(
            f"Ordering with '{name}' is disallowed or the attribute does not exist on the model"
        )
    column = getattr(row_class, name)
    clauses = [column.desc() if order_by.startswith("-") else column.asc()]
    clauses.extend(getattr(row_class, key).asc() for key in tiebreak if key != name)
    return clauses


def where_between(query: sa.Select[Any], column: Any, low: Any, high: Any) -> sa.Select[Any]:
    """Keep rows whose ``column`` is within ``low`` .. ``high`` (inclusive; None is open)."""
    if low is not None:
        query = query.where(column >= low)
    if high is not None:
        query = query.where(column <= high)
    return query


def insert_ignoring_conflicts(session: Session, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for ``table`` on the session's database."""
    return insert_ignoring_conflicts_in(session.get_bind().dialect.name, table)


def insert_ignoring_conflicts_in(dialect_name: str, table: Any) -> Any:
    """:func:`insert_ignoring_conflicts` for a database named ``postgresql`` or ``sqlite``:
    for statements built once per database kind."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()
