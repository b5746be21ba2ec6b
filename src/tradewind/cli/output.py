"""Printing lists of rows as ``--output table|json|yaml|plain``, Airflow's ``-o`` choices.

A command builds a list of dicts (one dict per row, the same keys in each) and hands it to
:func:`render` with the format the user chose through :func:`output_option`:

- ``table``: a rich table for people (the default);
- ``json``: ``json.dumps(rows, default=str)``, no markup and no colour, for ``jq``;
- ``yaml``: ``yaml.safe_dump`` of the same data;
- ``plain``: aligned columns with a header and no borders, for ``grep``, ``awk`` and ``cut``.

An empty list prints ``No data found`` as a table or plain text, and ``[]`` as JSON or
YAML, so scripts always get a parseable document. rich and yaml are imported only when
used: most invocations print neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import click

from tradewind.config import format_value

OUTPUT_FORMATS = ("table", "json", "yaml", "plain")
NO_DATA = "No data found"

Row = Mapping[str, Any]
F = TypeVar("F", bound=Callable[..., Any])


def output_option(function: F) -> F:
    """Add ``-o/--output [table|json|yaml|plain]`` to a command, passed as ``output``."""
    option = click.option(
        "-o",
        "--output",
        type=click.Choice(OUTPUT_FORMATS),
        default="table",
        show_default=True,
        help="Output format.",
    )
    return option(function)


def render(
    rows: Sequence[Row],
    output: str,
    *,
    columns: Sequence[str] | None = None,
    show_header: bool = True,
) -> None:
    """Print ``rows`` to stdout in the ``output`` format.

    Args:
        rows: one mapping per row; values may be any type (``str()`` is used for them).
        output: one of :data:`OUTPUT_FORMATS`.
        columns: the keys to show, in order; by default every key, in first-seen order.
        show_header: whether table and plain output start with the column names.

    Raises:
        ValueError: ``output`` is not a known format.
    """
    keys = list(columns) if columns is not None else _keys(rows)
    data = [{key: row.get(key) for key in keys} for row in rows]
    if output == "json":
        click.echo(json.dumps(data, indent=2, default=str))
    elif output == "yaml":
        click.echo(_yaml(data), nl=False)
    elif output == "plain":
        click.echo(plain_text(data, keys, show_header=show_header))
    elif output == "table":
        _print_table(data, keys, show_header=show_header)
    else:
        raise ValueError(f"Unknown output format {output!r}; expected one of {OUTPUT_FORMATS}")


def plain_text(rows: Sequence[Row], keys: Sequence[str], *, show_header: bool = True) -> str:
    """Left-aligned columns separated by two spaces, no borders, no trailing blanks."""
    if not rows:
        return NO_DATA
    lines = [[_cell(row.get(key)) for key in keys] for row in rows]
    if show_header:
        lines.insert(0, list(keys))
    widths = [max(len(line[i]) for line in lines) for i in range(len(keys))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _keys(rows: Sequence[Row]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def _cell(value: Any) -> str:
    return "" if value is None else format_value(value)


def _yaml(data: list[dict[str, Any]]) -> str:
    import yaml  # type: ignore[import-untyped, unused-ignore]

    # Through JSON first so that paths, datetimes and enums become plain strings.
    plain = json.loads(json.dumps(data, default=str))
    return str(yaml.safe_dump(plain, sort_keys=False, allow_unicode=True))


#: Columns assumed when stdout is not a terminal (tables then take only what they need).
_UNBOUNDED_WIDTH = 1000


def _print_table(rows: Sequence[Row], keys: Sequence[str], *, show_header: bool) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    if not console.is_terminal:
        # Piped or redirected: rich would assume 80 columns and fold every long value;
        # a file or a pager has no width, so give the table what it needs.
        console = Console(width=_UNBOUNDED_WIDTH)
    if not rows:
        console.print(NO_DATA, markup=False, highlight=False)
        return
    # Airflow's look: a double line under the header, no outer frame.
    table = Table(
        show_header=show_header, box=box.ASCII_DOUBLE_HEAD, show_edge=False, pad_edge=False
    )
    for key in keys:
        # fold, not ellipsis: a long URL or path must stay complete when the terminal is narrow.
        table.add_column(key, overflow="fold")
    for row in rows:
        # Text, not str: values such as "[core]" must not be read as rich markup.
        table.add_row(*(Text(_cell(row.get(key))) for key in keys))
    console.print(table)
