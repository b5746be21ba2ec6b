"""The one place where errors raised by commands become exit codes.

- :class:`tradewind.errors.TradewindError` (any subclass): one red ``Error: <message>``
  line on stderr, exit code 1, no traceback. ``--verbose`` or ``TRADEWIND_DEBUG=1``
  prints the traceback first, for debugging.
- ``KeyboardInterrupt``: exit code 130 (128 + SIGINT), quietly, as shells expect.
- click's own errors keep click's handling: usage errors exit 2, ``click.ClickException``
  exits 1 with click's ``Error:`` line.
- Anything else is a bug in Tradewind and keeps its traceback.

Commands therefore raise domain errors and never call ``sys.exit`` or print errors
themselves. :class:`TradewindGroup` applies the mapping around the whole invocation, so it
holds both for the console script and for ``click.testing.CliRunner``.
"""

from __future__ import annotations

import os
import traceback
from typing import Any

import click

from tradewind.errors import TradewindError

#: Exit code of a command that failed with a TradewindError.
EXIT_ERROR = 1
#: Exit code after Ctrl-C: 128 + SIGINT, what a shell reports for an interrupted program.
EXIT_INTERRUPTED = 130


def debug_enabled(ctx: click.Context) -> bool:
    """True when ``--verbose`` was given or ``TRADEWIND_DEBUG=1`` is set."""
    if ctx.find_root().params.get("verbose"):
        return True
    return os.environ.get("TRADEWIND_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}


def one_line(message: str) -> str:
    """Fold a message onto one line, so each error is exactly one line of stderr."""
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def report(exc: TradewindError, *, debug: bool) -> None:
    """Print ``exc`` as the CLI shows it: optionally its traceback, then one red line."""
    if debug:
        click.echo("".join(traceback.format_exception(exc)), err=True, nl=False)
    message = one_line(str(exc)) or type(exc).__name__
    click.secho(f"Error: {message}", fg="red", err=True)


class TradewindGroup(click.Group):
    """A click group that maps errors of any nested command to exit codes (see module doc)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TradewindError as exc:
            report(exc, debug=debug_enabled(ctx))
            raise click.exceptions.Exit(EXIT_ERROR) from exc
        except KeyboardInterrupt:
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
