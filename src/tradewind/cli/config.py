"""``tradewind config``: read the effective configuration, as ``airflow config`` does.

``get-value`` prints one value, secrets included (it is how scripts read
``sql_alchemy_conn``, as in Airflow). ``list`` prints INI text that could be saved as a
``tradewind.cfg``; unlike Airflow 2 it hides secrets that are set (``< hidden >``) unless
``--include-secrets`` is given, because its output ends up in bug reports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

import click

from tradewind.cli.context import get_settings
from tradewind.config import ENV_PREFIX, SECTIONS, OptionValue
from tradewind.errors import ConfigError

#: What ``config list`` shows instead of a secret; Airflow's marker.
HIDDEN = "< hidden >"


@click.group()
def config() -> None:
    """View configuration."""


@config.command("get-value")
@click.argument("section")
@click.argument("option")
@click.pass_context
def get_value(ctx: click.Context, section: str, option: str) -> None:
    """Print the effective value of OPTION in SECTION."""
    click.echo(get_settings(ctx).option(section, option).text)


@config.command("list")
@click.option("--section", help="Only this section.")
@click.option(
    "-a",
    "--defaults",
    is_flag=True,
    help="Only the defaults, commented out, with descriptions and variables: "
    "a starting point for a new tradewind.cfg.",
)
@click.option("-c", "--comment-out-everything", is_flag=True, help="Comment out every option.")
@click.option("-d", "--include-descriptions", is_flag=True, help="Describe each option.")
@click.option(
    "-V", "--include-env-vars", is_flag=True, help="Name the environment variable of each option."
)
@click.option("-s", "--include-sources", is_flag=True, help="Say where each value came from.")
@click.option("--include-secrets", is_flag=True, help=f"Show secrets instead of '{HIDDEN}'.")
@click.pass_context
def list_(
    ctx: click.Context,
    section: str | None,
    defaults: bool,
    comment_out_everything: bool,
    include_descriptions: bool,
    include_env_vars: bool,
    include_sources: bool,
    include_secrets: bool,
) -> None:
    """List options of the configuration, as INI text."""
    if section is not None and section not in SECTIONS:
        raise ConfigError(f"The section [{section}] is not found in config.")
    # --defaults reads no file: it must work before the first start and with a broken file.
    every = default_options() if defaults else get_settings(ctx).options()
    options = [option for option in every if section is None or option.section == section]
    text = config_text(
        options,
        comment_out=comment_out_everything or defaults,
        descriptions=include_descriptions or defaults,
        env_vars=include_env_vars or defaults,
        sources=include_sources and not defaults,
        secrets=include_secrets,
    )
    click.echo(text, nl=False)


def default_options() -> Iterator[OptionValue]:
    """Every option with its default value, as written in the code (``{TRADEWIND_HOME}``...)."""
    for section, cls in SECTIONS.items():
        for spec in dataclasses.fields(cls):
            yield OptionValue(
                section=section,
                key=spec.name,
                value=spec.default,
                source="default",
                secret=bool(spec.metadata["secret"]),
                description=str(spec.metadata["description"]),
            )


def config_text(
    options: Iterable[OptionValue],
    *,
    comment_out: bool = False,
    descriptions: bool = False,
    env_vars: bool = False,
    sources: bool = False,
    secrets: bool = False,
) -> str:
    """Render options as INI text, one ``[section]`` block each, in the order given.

    Args:
        comment_out: prefix every ``key = value`` line with ``# ``.
        descriptions: a ``# description`` line above each option.
        env_vars: a ``# Variable: TRADEWIND__SECTION__KEY`` line above each option.
        sources: a ``# Source: ...`` line above each option (default, tradewind.cfg,
            env var, cmd, env var cmd).
        secrets: show secret values that were set, instead of ``< hidden >``.
    """
    lines: list[str] = []
    current: str | None = None
    for option in options:
        if option.section != current:
            if current is not None:
                lines.append("")
            lines.append(f"[{option.section}]")
            current = option.section
        comments = []
        if descriptions:
            comments.append(f"# {option.description}")
        if sources:
            comments.append(f"# Source: {option.source}")
        if env_vars:
            comments.append(
                f"# Variable: {ENV_PREFIX}{option.section.upper()}__{option.key.upper()}"
            )
        lines += comments
        prefix = "# " if comment_out else ""
        lines.append(f"{prefix}{option.key} = {_shown(option, secrets=secrets)}")
        if comments:
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n" if lines else ""


def _shown(option: OptionValue, *, secrets: bool) -> str:
    # A default is public (it is in the source); only a value someone set is a secret.
    if option.secret and option.source != "default" and not secrets:
        return HIDDEN
    return option.text
