"""The metadata database of one CLI invocation: one engine, created on first use.

Commands that read or write the database call :func:`sessions`; the engine is
disposed of when the invocation ends. Commands that commit work for the scheduler call
:func:`wake_scheduler` afterwards. A brand-new SQLite database (the default,
under ``$TRADEWIND_HOME``) is migrated on first use, so that ``pip install`` and
one command are enough on a laptop; any other database must be migrated on
purpose with ``tradewind db migrate``, as its operator will want to choose when.
"""

from __future__ import annotations

import click
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.cli.context import get_settings
from tradewind.storage import database
from tradewind.storage.engine import create_engine_from_settings, display_url, session_factory

_ENGINE_KEY = "tradewind.engine"


def engine(ctx: click.Context) -> Engine:
    """This invocation's engine, checked to be reachable and migrated.

    Raises:
        DatabaseError: unreachable, or not migrated (and not a fresh SQLite database).
    """
    meta = ctx.find_root().meta
    if _ENGINE_KEY not in meta:
        settings = get_settings(ctx)
        created = create_engine_from_settings(
            settings.database, fernet_key=settings.core.fernet_key
        )
        ctx.find_root().call_on_close(created.dispose)
        if created.dialect.name == "sqlite" and database.current_revision(created) is None:
            database.migrate(created, settings.core.default_pool_task_slot_count)
            click.echo(f"Initialized the metadata database at {display_url(created.url)}", err=True)
        database.check(created)
        meta[_ENGINE_KEY] = created
    result: Engine = meta[_ENGINE_KEY]
    return result


def sessions(ctx: click.Context) -> sessionmaker[Session]:
    """A session factory over this invocation's engine (see :func:`engine`)."""
    return session_factory(engine(ctx))


def wake_scheduler(ctx: click.Context) -> None:
    """Wake running schedulers at once, after this command committed work for them.

    Called by ``dags trigger``, ``dags unpause`` and ``tasks clear`` after their
    transaction commits; best effort (:func:`tradewind.storage.wakeup.notify_scheduler`
    never raises): a lost wake-up costs at most one scheduler sweep interval.
    """
    from tradewind.storage.wakeup import notify_scheduler

    notify_scheduler(get_settings(ctx), engine(ctx))
