"""The security generation: one number that moves whenever who-may-do-what changes.

Verifying a login costs database queries (the user, their roles, the roles'
permissions) and, for a password, an argon2 check. A process may instead reuse a
principal it verified earlier, but only while nothing it depends on has changed; the
``security_generation`` row says so in one tiny query. Triggers (migration 0003) bump
it in the same transaction as any change to users' names, passwords or activity, to
roles, their permissions or members, or to API tokens, whoever makes the change (an API
request, ``tradewind users ...``, another process, hand-written SQL). Reading the
number *before* loading a principal makes the pair safe: a change that commits in
between can only make the cached principal newer than its number, never older.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.storage.tables import security_generation

_READ = sa.select(security_generation.c.generation).where(security_generation.c.id == 1)


def read_generation(database: Session | sa.Connection) -> int | None:
    """The current generation; None when its row is missing (a bump re-creates it).

    ``database`` may be a bare connection: a request whose principal is remembered reads
    only this, and a connection costs half what a session does for it.
    """
    return database.scalar(_READ)
