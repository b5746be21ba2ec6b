"""The metadata database: engine and sessions, ORM rows, migrations and query functions.

Owns:
    - ``engine``: building an :class:`~sqlalchemy.engine.Engine` from ``[database]``
      settings (SQLite with WAL, or PostgreSQL through psycopg 3), the session factory
      and :func:`~tradewind.storage.engine.transaction`, the one way to open a transaction.
    - ``column_types``: ``UtcDateTime`` and the JSON type shared by every table.
    - ``fernet``: encryption at rest of connection passwords/extras, variables and
      trigger kwargs, with a key given to the engine, never read from global config.
    - ``tables/``: one module per aggregate of ORM rows (``DagRunRow``, ``PoolRow`` ...).
    - ``migrations/``: Alembic, run in-process by ``database.migrate``; no alembic.ini.
    - ``database``: migrate, reset, check and the current revision.
    - ``repositories/``: query functions. They take a session first and never commit.
    - ``pagination``: ``Page`` (items + total_entries), what every ``list_xs`` returns.

May import only sqlalchemy, alembic, cryptography, :mod:`tradewind.config` and
:mod:`tradewind.errors`: never :mod:`tradewind.sdk` or anything above it, so that the
API server can read the database without importing authoring code.
"""
