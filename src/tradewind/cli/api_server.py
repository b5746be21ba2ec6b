"""``tradewind api-server``: serve ``/api/v1`` with uvicorn until SIGINT or SIGTERM.

Host, port and worker processes come from ``[webserver]`` (``web_server_host``,
``web_server_port``, ``workers``), each overridable by an option, as Airflow's
``webserver`` command. Before serving, the default roles are created (idempotent), so
a fresh database answers with working permissions. With more than one worker, each
worker builds the app from the environment and configuration file
(:func:`tradewind.api.app.create_app_from_environment`); uvicorn supervises them.
Each serving process freezes the objects it built before its first request
(:func:`tradewind.processes.freeze_startup_objects`): full garbage collections then skip
them.
"""

from __future__ import annotations

import click

from tradewind.cli import database
from tradewind.cli.context import get_settings


@click.command("api-server")
@click.option("--host", "-H", default=None, help="Address to listen on ([webserver] host).")
@click.option("--port", "-p", type=int, default=None, help="TCP port ([webserver] port).")
@click.option("--workers", "-w", type=int, default=None, help="Worker processes.")
@click.pass_context
def api_server(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the REST API (/api/v1)."""
    import uvicorn

    from tradewind.api.app import create_api_app, prepare_database
    from tradewind.api.auth.backends import load_backends
    from tradewind.processes import freeze_startup_objects

    settings = get_settings(ctx)
    engine = database.engine(ctx)
    prepare_database(engine)
    load_backends(settings)  # a bad [api] auth_backends fails here, with one clear line
    host = host or settings.webserver.web_server_host
    port = port or settings.webserver.web_server_port
    workers = workers or settings.webserver.workers
    click.echo(
        f"API server on http://{host}:{port}/api/v1 ({workers} worker(s)); "
        f"auth backends: {settings.api.auth_backends}",
        err=True,
    )
    if workers > 1:
        engine.dispose()
        uvicorn.run(
            "tradewind.api.app:create_app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
        )
        return
    app = create_api_app(settings, engine=engine)
    freeze_startup_objects()
    uvicorn.run(app, host=host, port=port, log_level="warning")
