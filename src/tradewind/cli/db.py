"""``tradewind db``: create, upgrade, reset and check the metadata database.

Each command builds its engine from this invocation's settings (``get_settings``), does
one thing and disposes of the engine; errors are TradewindErrors, turned into one line
and exit code 1 by the root group.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.engine import Engine

from tradewind.cli.context import get_settings
from tradewind.config import Settings
from tradewind.errors import InvalidInput
from tradewind.storage import database
from tradewind.storage.engine import create_engine_from_settings, display_url


@click.group()
def db() -> None:
    """Manage the metadata database."""


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = create_engine_from_settings(settings.database)
    try:
        yield engine
    finally:
        engine.dispose()


@db.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Create or upgrade the schema to this version's newest revision (safe to repeat)."""
    settings = get_settings(ctx)
    with _engine(settings) as engine:
        database.migrate(engine, settings.core.default_pool_task_slot_count)
        revision = database.current_revision(engine)
        click.echo(f"Database {display_url(engine.url)} is at revision {revision}.")


@db.command()
@click.option("--yes", "-y", is_flag=True, help="Confirm: every table and all data are dropped.")
@click.pass_context
def reset(ctx: click.Context, yes: bool) -> None:
    """Drop every table and all data, then migrate to an empty schema."""
    if not yes:
        raise InvalidInput(
            "db reset drops every table and all data; run again with --yes to confirm"
        )
    settings = get_settings(ctx)
    with _engine(settings) as engine:
        database.reset(engine, settings.core.default_pool_task_slot_count)
        click.echo(f"Database {display_url(engine.url)} was reset.")


@db.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Exit 0 if the database is reachable and migrated, else 1 with the reason."""
    settings = get_settings(ctx)
    with _engine(settings) as engine:
        database.check(engine)
        click.echo(f"Database {display_url(engine.url)} is reachable and up to date.")
