"""``tradewind users``: Airflow's ``airflow users`` verbs, plus API tokens.

``create``, ``list``, ``delete``, ``add-role`` and ``remove-role`` behave as Airflow's;
``create-token``, ``list-tokens`` and ``revoke-token`` (in ``cli/user_tokens.py``)
manage the bearer tokens of the ``tradewind.api.auth.token`` backend.

A new user's password comes from ``--password``, or is asked for twice when stdin is a
terminal; ``--use-random-password`` stores one nobody knows (for users who log in some
other way, as in Airflow) and ``--no-password`` none at all (a service account using
tokens). There is never a default password. Every change is one transaction, recorded
in the audit log as ``cli_users_<verb>`` with the OS user as owner; passwords are never
printed or recorded.
"""

from __future__ import annotations

import secrets
import sys

import click

from tradewind.cli.audit import audit
from tradewind.cli.database import sessions
from tradewind.cli.output import output_option, render
from tradewind.cli.user_tokens import create_token, list_tokens, revoke_token
from tradewind.errors import InvalidInput
from tradewind.storage.engine import transaction

USER_COLUMNS = ("id", "username", "email", "first_name", "last_name", "roles")


@click.group()
def users() -> None:
    """Manage users and their API tokens."""


users.add_command(create_token)
users.add_command(list_tokens)
users.add_command(revoke_token)


@users.command("create")
@click.option("-u", "--username", required=True, help="Login name.")
@click.option("-e", "--email", required=True, help="Email address (unique).")
@click.option("-f", "--firstname", required=True, help="First name.")
@click.option("-l", "--lastname", required=True, help="Last name.")
@click.option("-r", "--role", required=True, help="Role of the user (Admin, Op, User...).")
@click.option("-p", "--password", help="Password; asked for when omitted on a terminal.")
@click.option("--use-random-password", is_flag=True, help="Store a random password nobody knows.")
@click.option("--no-password", is_flag=True, help="No password: a service account using tokens.")
@click.pass_context
def create(
    ctx: click.Context,
    username: str,
    email: str,
    firstname: str,
    lastname: str,
    role: str,
    password: str | None,
    use_random_password: bool,
    no_password: bool,
) -> None:
    """Create a user holding ROLE. An existing USERNAME is left unchanged (exit 0)."""
    from tradewind.security.permissions import sync_default_roles
    from tradewind.security.users import create_user, get_user, require_roles

    secret = _new_password(password, use_random_password, no_password)
    with transaction(sessions(ctx), sqlite_begin="IMMEDIATE") as session:
        sync_default_roles(session)
        if get_user(session, username) is not None:
            # As Airflow: re-running a setup script that creates its users is not an error.
            click.echo(f"User {username!r} already exists; nothing changed", err=True)
            return
        require_roles(session, [role])
        create_user(
            session,
            username,
            secret,
            email=email,
            first_name=firstname,
            last_name=lastname,
            roles=[role],
        )
        audit(session, "cli_users_create", username=username, role=role)
    click.echo(f'User "{username}" created with role "{role}"')


def _new_password(password: str | None, use_random: bool, no_password: bool) -> str | None:
    chosen = sum((password is not None, use_random, no_password))
    if chosen > 1:
        raise InvalidInput(
            "Give at most one of --password, --use-random-password and --no-password"
        )
    if no_password:
        return None
    if use_random:
        return secrets.token_urlsafe(24)
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise InvalidInput(
            "No password given and stdin is not a terminal: use --password, "
            "--use-random-password or --no-password"
        )
    entered: str = click.prompt(
        "Password", hide_input=True, confirmation_prompt="Repeat for confirmation"
    )
    return entered


@users.command("list")
@output_option
@click.pass_context
def list_users(ctx: click.Context, output: str) -> None:
    """List users and their roles."""
    from tradewind.security.users import list_users as list_user_rows

    with transaction(sessions(ctx)) as session:
        rows = [
            {
                "id": user.id,
                "username": user.username,
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "roles": ", ".join(sorted(role.name for role in user.roles)),
            }
            for user in list_user_rows(session, limit=1_000_000).items
        ]
    render(rows, output, columns=USER_COLUMNS)


@users.command("delete")
@click.option("-u", "--username", help="Login name of the user to delete.")
@click.option("-e", "--email", help="Email of the user to delete.")
@click.pass_context
def delete(ctx: click.Context, username: str | None, email: str | None) -> None:
    """Delete a user (by username or email); their API tokens go too."""
    from tradewind.errors import NotFound
    from tradewind.security.users import delete_user, get_user_by_email

    if (username is None) == (email is None):
        raise InvalidInput("Give exactly one of --username and --email")
    with transaction(sessions(ctx), sqlite_begin="IMMEDIATE") as session:
        if username is None:
            found = get_user_by_email(session, str(email))
            if found is None:
                raise NotFound(f"No user has the email {email!r}")
            username = found.username
        delete_user(session, username)
        audit(session, "cli_users_delete", username=username)
    click.echo(f'User "{username}" deleted')


@users.command("add-role")
@click.option("-u", "--username", required=True, help="Login name.")
@click.option("-r", "--role", required=True, help="Role to give.")
@click.pass_context
def add_role(ctx: click.Context, username: str, role: str) -> None:
    """Give a user one more role."""
    _change_membership(ctx, username, role, add=True)


@users.command("remove-role")
@click.option("-u", "--username", required=True, help="Login name.")
@click.option("-r", "--role", required=True, help="Role to take away.")
@click.pass_context
def remove_role(ctx: click.Context, username: str, role: str) -> None:
    """Take a role from a user."""
    _change_membership(ctx, username, role, add=False)


def _change_membership(ctx: click.Context, username: str, role: str, *, add: bool) -> None:
    from tradewind.security import users as accounts
    from tradewind.security.permissions import sync_default_roles

    verb = "add" if add else "remove"
    with transaction(sessions(ctx), sqlite_begin="IMMEDIATE") as session:
        sync_default_roles(session)
        (accounts.add_role if add else accounts.remove_role)(session, username, role)
        audit(session, f"cli_users_{verb}_role", username=username, role=role)
    click.echo(f'User "{username}" {"added to" if add else "removed from"} role "{role}"')
