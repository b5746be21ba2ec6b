"""Turning a duplicate key into AlreadyExists without spoiling the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tradewind.errors import AlreadyExists, InvalidInput


@contextmanager
def unique_write(session: Session, duplicate_message: str) -> Iterator[None]:
    """Flush the changes made in the block in a savepoint; a unique violation raises
    AlreadyExists(``duplicate_message``).

    The savepoint keeps the caller's transaction usable after the violation, which a
    concurrent insert of the same key (two API requests at once) can always cause.
    """
    try:
        with session.begin_nested():
            yield
    except IntegrityError as exc:
        raise AlreadyExists(duplicate_message) from exc


def apply_changes(row: Any, changes: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Set the ``changes`` on ``row``.

    Raises:
        InvalidInput: a change names a field outside ``allowed``.
    """
    allowed = frozenset(allowed)
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise InvalidInput(
            f"Cannot update {', '.join(unknown)}; updatable fields: {', '.join(sorted(allowed))}"
        )
    for name, value in changes.items():
        setattr(row, name, value)
