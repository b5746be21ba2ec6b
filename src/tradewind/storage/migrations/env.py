"""Alembic environment, run only in-process by :mod:`tradewind.storage.database`.

The caller passes an open connection in ``config.attributes["connection"]`` (and the
slots of ``default_pool`` in ``config.attributes["default_pool_slots"]``), so migrations
run inside the caller's transaction, with its engine's SQLite pragmas, and no alembic.ini
or URL is read here.
"""

from __future__ import annotations

from alembic import context

from tradewind.storage.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Tradewind migrations run through tradewind.storage.database.migrate(engine), "
        "which passes the connection in config.attributes"
    )
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things: later revisions get copy-and-move batch operations.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
