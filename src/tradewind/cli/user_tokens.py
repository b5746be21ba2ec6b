"""``tradewind users create-token | list-tokens | revoke-token``: API bearer tokens.

``create-token`` prints the token on stdout, alone, exactly once (``TOKEN=$(tradewind
users create-token ci --name deploy)``); only its hash is stored, so a lost token cannot
be shown again: revoke it and create another. ``list-tokens`` shows everything but the
token. The commands are added to the ``users`` group by ``cli/users.py``.
"""

from __future__ import annotations

from datetime import timedelta

import click

from tradewind.cli.arguments import utcnow
from tradewind.cli.audit import audit
from tradewind.cli.database import sessions
from tradewind.cli.output import output_option, render
from tradewind.storage.engine import transaction

TOKEN_COLUMNS = ("id", "name", "created_at", "expires_at", "last_used_at", "revoked")


@click.command("create-token")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. ci-deploy.")
@click.option(
    "--expires-in",
    type=click.IntRange(min=1),
    help="Days until the token expires (default: never; revoke it instead).",
)
@click.pass_context
def create_token(ctx: click.Context, username: str, name: str, expires_in: int | None) -> None:
    """Create an API token for USERNAME and print it (the only time it is shown)."""
    from tradewind.security.tokens import create_token as issue

    now = utcnow()
    lifetime = timedelta(days=expires_in) if expires_in is not None else None
    with transaction(sessions(ctx), sqlite_begin="IMMEDIATE") as session:
        issued = issue(session, username, name, now=now, expires_in=lifetime)
        token_id = issued.row.id
        audit(session, "cli_users_create_token", username=username, name=name, token_id=token_id)
    expiry = f"expires in {expires_in} day(s)" if expires_in else "never expires"
    click.echo(f"Token {token_id} ({name!r} of {username!r}, {expiry}):", err=True)
    click.echo(issued.secret)


@click.command("list-tokens")
@click.argument("username")
@output_option
@click.pass_context
def list_tokens(ctx: click.Context, username: str, output: str) -> None:
    """List USERNAME's API tokens (never the tokens themselves)."""
    from tradewind.security.tokens import list_tokens as list_rows

    with transaction(sessions(ctx)) as session:
        rows = [
            {
                "id": row.id,
                "name": row.name,
                "created_at": row.created_at,
                "expires_at": row.expires_at,
                "last_used_at": row.last_used_at,
                "revoked": row.revoked,
            }
            for row in list_rows(session, username)
        ]
    render(rows, output, columns=TOKEN_COLUMNS)


@click.command("revoke-token")
@click.argument("username", required=False)
@click.option("--id", "token_id", type=int, help="Id of the token (see list-tokens).")
@click.option("--name", help="Name of USERNAME's token to revoke.")
@click.pass_context
def revoke_token(
    ctx: click.Context, username: str | None, token_id: int | None, name: str | None
) -> None:
    """Revoke a token by --id, or USERNAME's token called --name; it stops working at once."""
    from tradewind.errors import InvalidInput
    from tradewind.security.tokens import revoke_token as revoke

    if (token_id is None) == (name is None) or (name is not None and username is None):
        raise InvalidInput("Give --id ID, or USERNAME --name NAME")
    with transaction(sessions(ctx), sqlite_begin="IMMEDIATE") as session:
        rows = revoke(session, token_id=token_id, username=username, name=name)
        ids = [row.id for row in rows]
        audit(session, "cli_users_revoke_token", token_ids=ids)
    click.echo(f"Revoked token(s) {', '.join(str(i) for i in ids)}")
