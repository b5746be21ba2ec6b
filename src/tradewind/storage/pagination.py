"""One page of a list query, as every ``list_xs`` repository function returns it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import InvalidInput

T = TypeVar("T")

#: Airflow's default and maximum page sizes (``[api] maximum_page_limit``).
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    """``items`` of one page and ``total_entries``, the count of the whole filtered list."""

    items: Sequence[T]
    total_entries: int


def paginate(session: Session, query: sa.Select[Any], *, limit: int, offset: int) -> Page[Any]:
    """Run ``query`` (already filtered and ordered) for one page, counting all its rows.

    Raises:
        InvalidInput: negative limit or offset.
    """
    total = _count(session, query, limit=limit, offset=offset)
    items = session.scalars(query.limit(limit).offset(offset)).all()
    return Page(items=items, total_entries=total)


def paginate_rows(
    session: Session, query: sa.Select[Any], *, limit: int, offset: int
) -> Page[sa.Row[Any]]:
    """:func:`paginate` for a query of columns: its items are the plain rows, each column
    by name (``row.dag_id``), not the first column of each.

    The page is read first: when it holds some rows but fewer than ``limit``, it is the
    end of the list and the total is ``offset`` plus its length, with no ``count(*)``.

    Raises:
        InvalidInput: negative limit or offset.
    """
    return paginate_built(session, bounded(query), counting(query), limit=limit, offset=offset)


def paginate_built(
    session: Session, page: sa.Select[Any], count: sa.Select[Any], *, limit: int, offset: int
) -> Page[sa.Row[Any]]:
    """:func:`paginate_rows` for statements that may be built once: ``page`` is the
    list's query made :func:`bounded`, ``count`` its :func:`counting`. Building a
    statement (and its cache key) costs more than running a page of 100 on SQLite.

    Raises:
        InvalidInput: negative limit or offset.
    """
    _check_bounds(limit, offset)
    # On the session's connection: a Core query needs none of the ORM's result handling.
    connection = session.connection()
    items = connection.execute(page, {"limit": limit, "offset": offset}).all()
    if 0 < len(items) < limit:
        return Page(items=items, total_entries=offset + len(items))
    total = connection.scalar(count)
    return Page(items=items, total_entries=int(total or 0))


def bounded(query: sa.Select[Any]) -> sa.Select[Any]:
    """``query`` with its page's bounds as the bind parameters ``limit`` and ``offset``,
    so that one statement (and one compiled form) serves every page."""
    return query.limit(_LIMIT).offset(_OFFSET)


def counting(query: sa.Select[Any]) -> sa.Select[int]:
    """The ``count(*)`` of all the rows ``query`` matches (over ``SELECT 1`` of its
    filters)."""
    return _count_of(query.with_only_columns(_ONE, maintain_column_froms=True))


_LIMIT = sa.bindparam("limit", type_=sa.Integer)
_OFFSET = sa.bindparam("offset", type_=sa.Integer)

#: What a counted query selects: the columns do not change the count, and each costs
#: SQLAlchemy work per statement (cache key, compilation lookup).
_ONE: sa.ColumnElement[Any] = sa.literal_column("1")


def _count(session: Session, query: sa.Select[Any], *, limit: int, offset: int) -> int:
    """All the rows ``query`` matches, once the page bounds are known to be valid."""
    _check_bounds(limit, offset)
    return int(session.scalar(_count_of(query)) or 0)


def _count_of(query: sa.Select[Any]) -> sa.Select[int]:
    return sa.select(sa.func.count()).select_from(query.order_by(None).subquery())


def _check_bounds(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise InvalidInput(f"limit and offset must be >= 0, got limit={limit} offset={offset}")
