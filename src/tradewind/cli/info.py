"""``tradewind version`` and ``tradewind info``: what is installed and how it is configured.

``version`` must stay instant (it is the command scripts and health checks run), so it
loads no settings. ``info`` is what a user pastes into a bug report, so it masks the
database password as Airflow's ``airflow info`` does.
"""

from __future__ import annotations

import re
import sys

import click

import tradewind
from tradewind.cli.context import get_settings
from tradewind.cli.output import output_option, render

#: ``scheme://user:password@host...``: the password is what lies between the first ``:``
#: after the user and the last ``@``, the rule SQLAlchemy's ``make_url`` applies.
_URL_PASSWORD = re.compile(r"^(?P<head>[\w+.-]+://[^:/@]*:)(?P<password>.+)(?P<tail>@[^@]*)$")
MASK = "***"


def mask_password(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", url)


@click.command()
def version() -> None:
    """Show the version of Tradewind."""
    click.echo(tradewind.__version__)


@click.command()
@output_option
@click.pass_context
def info(ctx: click.Context, output: str) -> None:
    """Show the versions, paths and main settings of this installation."""
    import platform

    settings = get_settings(ctx)
    facts = {
        "tradewind_version": tradewind.__version__,
        "python_version": platform.python_version(),
        "python_location": sys.executable,
        "platform": platform.platform(),
        "tradewind_home": settings.home,
        "config_file": settings.config_file,
        "dags_folder": settings.core.dags_folder,
        "plugins_folder": settings.core.plugins_folder,
        "executor": settings.core.executor,
        "sql_alchemy_conn": mask_password(settings.database.sql_alchemy_conn),
        "base_log_folder": settings.logging.base_log_folder,
    }
    rows = [{"key": key, "value": value} for key, value in facts.items()]
    render(rows, output, show_header=False)
