"""``tradewind roles``: list and create roles (Airflow's ``airflow roles list | create``).

What a role may do is managed through the API (``PATCH /api/v1/roles/{name}``); the CLI
creates empty roles for it, as Airflow's does.
"""

from __future__ import annotations

import click

from tradewind.cli.audit import audit
from tradewind.cli.database import sessions
from tradewind.cli.output import output_option, render
from tradewind.storage.engine import transaction


@click.group()
def roles() -> None:
    """Manage roles."""


@roles.command("list")
@output_option
@click.option("-p", "--permission", is_flag=True, help="Show each role's permissions too.")
@click.pass_context
def list_roles(ctx: click.Context, output: str, permission: bool) -> None:
    """List roles (the default ones are created first if missing)."""
    from tradewind.security.permissions import sync_default_roles
    from tradewind.security.roles import list_roles as list_role_rows

    with transaction(sessions(ctx), sqlite_begin="IMMEDIATE") as session:
        sync_default_roles(session)
        rows = [
            {
                "name": role.name,
                "permissions": ", ".join(
                    sorted(f"{p.action} on {p.resource}" for p in role.permissions)
                ),
            }
            for role in list_role_rows(session, limit=1_000_000).items
        ]
    render(rows, output, columns=("name", "permissions") if permission else ("name",))


@roles.command("create")
@click.argument("names", nargs=-1, required=True)
@click.pass_context
def create(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Create roles NAMES... with no permissions; existing ones are left as they are."""
    from tradewind.security.permissions import sync_default_roles
    from tradewind.security.roles import create_role
    from tradewind.security.users import get_role

    created = []
    with transaction(sessions(ctx), sqlite_begin="IMMEDIATE") as session:
        sync_default_roles(session)
        for name in dict.fromkeys(names):
            if get_role(session, name) is None:
                create_role(session, name)
                created.append(name)
        if created:
            audit(session, "cli_roles_create", roles=created)
    for name in names:
        click.echo(f'Role "{name}" ' + ("created" if name in created else "already exists"))
