"""The declarative base shared by every row class, and its constraint naming convention.

The naming convention gives every index and constraint a deterministic name, identical on
SQLite and PostgreSQL, so a later migration can drop or alter it by name on both.
PostgreSQL truncates identifiers at 63 characters: keep explicit names shorter.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Longest string column for identifiers (dag_id, task_id, run_id, pool, conn_id ...).
ID_LENGTH = 250


class Base(DeclarativeBase):
    """Base of every ``*Row`` class; ``Base.metadata`` is what migrations are compared with."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
