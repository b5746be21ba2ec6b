"""``tradewind rotate-fernet-key``: move every stored secret to the first Fernet key.

As Airflow's command: with ``[core] fernet_key = new_key,old_key``, connection
passwords and extras, variable values and trigger arguments are re-encrypted with
``new_key`` in one transaction; afterwards ``old_key`` can be removed from the setting.
"""

from __future__ import annotations

import click

from tradewind.cli.audit import audit
from tradewind.cli.database import sessions
from tradewind.storage.engine import transaction


@click.command("rotate-fernet-key")
@click.pass_context
def rotate_fernet_key(ctx: click.Context) -> None:
    """Re-encrypt every encrypted value with the first key of [core] fernet_key."""
    from tradewind.storage.key_rotation import rotate_encrypted_values

    with transaction(sessions(ctx), sqlite_begin="IMMEDIATE") as session:
        counts = rotate_encrypted_values(session)
        audit(session, "cli_rotate_fernet_key", **counts)
    total = sum(counts.values())
    detail = ", ".join(f"{table}: {count}" for table, count in counts.items())
    click.echo(f"Re-encrypted {total} value(s) with the first key ({detail})")
