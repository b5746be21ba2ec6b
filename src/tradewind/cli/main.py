"""The ``tradewind`` entry point: the root click group and the list of command groups.

Each group lives in its own module, ``cli/<group>.py``, and is added to :data:`COMMANDS`
below; nothing else registers commands. (``db.db`` joins the tuple when ``cli/db.py``
lands.) Keep this module's imports light: it is imported
on every invocation, including ``tradewind version``.
"""

from __future__ import annotations

import click

from tradewind.cli import config, info
from tradewind.cli.errors import TradewindGroup

#: Every top-level command and command group, in the order ``--help`` lists them.
COMMANDS: tuple[click.Command, ...] = (
    info.version,
    info.info,
    config.config,
)


@click.group(
    cls=TradewindGroup,
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


for _command in COMMANDS:
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point (``tradewind = "tradewind.cli.main:main"``)."""
    cli.main(prog_name="tradewind")
