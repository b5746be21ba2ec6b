"""The ``tradewind`` entry point: the root click group and the list of command groups.

Each group lives in its own module, ``cli/<group>.py``, and is named in :data:`COMMANDS`
below; nothing else registers commands. A command's module is imported only when that
command runs (or ``--help`` lists it), so ``tradewind version`` does not pay for
SQLAlchemy, the DAG processor or rich.
"""

from __future__ import annotations

import importlib

import click

from tradewind.cli.errors import TradewindGroup

#: Every top-level command and command group: name -> "module:attribute", in the order
#: ``--help`` lists them.
COMMANDS: dict[str, str] = {
    "version": "tradewind.cli.info:version",
    "info": "tradewind.cli.info:info",
    "config": "tradewind.cli.config:config",
    "db": "tradewind.cli.db:db",
    "dags": "tradewind.cli.dags:dags",
    "tasks": "tradewind.cli.tasks:tasks",
    "standalone": "tradewind.cli.standalone:standalone",
    "scheduler": "tradewind.cli.scheduler:scheduler",
    "api-server": "tradewind.cli.api_server:api_server",
    "users": "tradewind.cli.users:users",
    "roles": "tradewind.cli.roles:roles",
    "rotate-fernet-key": "tradewind.cli.fernet:rotate_fernet_key",
}


class LazyTradewindGroup(TradewindGroup):
    """The root group: loads each command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command


@click.group(
    cls=LazyTradewindGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Show the traceback of an error (also TRADEWIND_DEBUG=1).",
)
def cli(verbose: bool) -> None:
    """Tradewind: author, schedule and run workflows; compatible with Apache Airflow 2."""


def main() -> None:
    """Console-script entry point (``tradewind = "tradewind.cli.main:main"``)."""
    cli.main(prog_name="tradewind")
