"""``tradewind standalone``: the whole of Tradewind on one machine, in one command.

The steps, each safe to repeat on every start:

1. load the settings (writing a default ``tradewind.cfg`` on first use) and migrate the
   database;
2. create the ``admin`` user with a random password if there is no user yet, print the
   password once and keep it in a 0600 file (see ``standalone/admin_user.py``);
3. turn on Basic and session authentication if no ``[api] auth_backends`` was chosen;
4. run the components (``standalone/components.py``) as supervised child processes
   until Ctrl-C or SIGTERM, then stop them all and exit 0.

"Tradewind is ready" is printed once the scheduler heartbeats in the database and the
API server answers ``/api/v1/health``.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType

import click
from sqlalchemy.orm import Session, sessionmaker

from tradewind.cli.context import get_settings
from tradewind.config import Settings
from tradewind.security.permissions import sync_default_roles
from tradewind.standalone.admin_user import AdminLogin, ensure_admin_user
from tradewind.standalone.auth_config import STANDALONE_AUTH_BACKENDS, enable_basic_auth
from tradewind.standalone.components import standalone_components
from tradewind.standalone.readiness import (
    api_answers,
    local_api_url,
    scheduler_heartbeat_since,
    wait_until,
)
from tradewind.standalone.supervisor import Supervisor
from tradewind.storage import database
from tradewind.storage.engine import (
    create_engine_from_settings,
    display_url,
    session_factory,
    transaction,
)


@click.command()
@click.pass_context
def standalone(ctx: click.Context) -> None:
    """Run everything (scheduler, API server) on this machine as one supervised group."""
    settings = get_settings(ctx)
    engine = create_engine_from_settings(settings.database, fernet_key=settings.core.fernet_key)
    ctx.call_on_close(engine.dispose)
    database.migrate(engine, settings.core.default_pool_task_slot_count)
    click.echo(f"Database {display_url(engine.url)} is at revision {database.head_revision()}")
    factory = session_factory(engine)
    # IMMEDIATE: two standalones started at once queue here instead of both creating admin.
    with transaction(factory, sqlite_begin="IMMEDIATE") as session:
        sync_default_roles(session)
        login = ensure_admin_user(session, settings.home)
    _report_login(login)
    if enable_basic_auth(settings):
        click.echo(
            f"Set [api] auth_backends = {STANDALONE_AUTH_BACKENDS} in {settings.config_file}"
        )
    settings.core.dags_folder.mkdir(parents=True, exist_ok=True)

    supervisor = Supervisor(standalone_components(), output=sys.stdout)
    started = datetime.now(UTC)
    stopped = threading.Event()
    announcer = threading.Thread(
        target=_announce_when_ready,
        args=(supervisor, settings, factory, started, stopped.is_set),
        name="standalone-readiness",
        daemon=True,
    )
    with _stop_on_signals(supervisor.stop):
        announcer.start()
        try:
            supervisor.run()
        finally:
            stopped.set()
            announcer.join(timeout=2.0)
    click.echo("Tradewind standalone stopped.")


def _report_login(login: AdminLogin) -> None:
    if login.password is not None:
        click.secho(f"Login with username: {login.username}  password: {login.password}", bold=True)
        click.echo(f"The password is also in {login.password_file}; it is not shown again.")
    elif login.password_file.exists():
        click.echo(f"The {login.username} password is in {login.password_file}")
    else:
        click.echo("Users exist already: no admin password was generated.")


def _announce_when_ready(
    supervisor: Supervisor,
    settings: Settings,
    factory: sessionmaker[Session],
    started: datetime,
    cancelled: Callable[[], bool],
) -> None:
    base = local_api_url(settings.webserver.web_server_host, settings.webserver.web_server_port)
    if wait_until(
        lambda: scheduler_heartbeat_since(factory, started), cancelled=cancelled
    ) and wait_until(lambda: api_answers(f"{base}/api/v1/health"), cancelled=cancelled):
        supervisor.say(
            f"Tradewind is ready: API at {base}/api/v1. Put DAG files in "
            f"{settings.core.dags_folder}; press Ctrl-C to stop."
        )


@contextmanager
def _stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """Call ``stop`` on SIGINT and SIGTERM inside the block; restore the old handlers after.

    Installed before any child starts, so a Ctrl-C at any moment goes through the orderly
    shutdown (a KeyboardInterrupt could otherwise leave children running).
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        stop()

    previous = {signum: signal.signal(signum, handler) for signum in _STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
