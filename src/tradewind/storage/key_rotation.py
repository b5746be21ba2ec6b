"""Re-encrypting every stored secret with the first Fernet key (``rotate-fernet-key``).

Rotation, as in Airflow: set ``[core] fernet_key = new_key,old_key``, run
:func:`rotate_encrypted_values` once (every value is decrypted with whichever key opens
it and encrypted again with ``new_key``; plaintext stored while no key was set gets
encrypted), then drop ``old_key`` from the setting.

The columns are found from the tables' types (:class:`~tradewind.storage.fernet.EncryptedText`
and :class:`~tradewind.storage.fernet.EncryptedJson`), so a table that gains an encrypted
column is rotated without changing this module. Stored text is read and written as is,
bypassing the column types, so JSON documents are not parsed on the way through. The
work is done in batches of primary keys, inside the caller's single transaction: either
every value moves to the new key or none does.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tradewind.errors import ConfigError
from tradewind.storage.fernet import EncryptedJson, EncryptedText, FernetVault, vault_for
from tradewind.storage.tables import Base

#: Rows read and written per round trip.
BATCH_SIZE = 500


def encrypted_columns() -> Iterator[tuple[sa.Table, list[sa.Column[object]]]]:
    """Each table holding encrypted columns, with those columns."""
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, EncryptedText | EncryptedJson)]
        if columns:
            yield table, columns


def rotate_encrypted_values(session: Session, *, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Re-encrypt every encrypted value with the first key of the session's engine.

    Returns:
        How many values were rewritten, per table name.

    Raises:
        ConfigError: the engine has no key to encrypt with.
        DatabaseError: a stored value opens with none of the configured keys.
    """
    vault = vault_for(session.get_bind().dialect)
    if not vault.encrypts:
        raise ConfigError("[core] fernet_key is empty: there is no key to re-encrypt with")
    return {
        table.name: _rotate_table(session, vault, table, columns, batch_size)
        for table, columns in encrypted_columns()
    }


def _rotate_table(
    session: Session,
    vault: FernetVault,
    table: sa.Table,
    columns: list[sa.Column[object]],
    batch_size: int,
) -> int:
    (key,) = table.primary_key.columns
    raw = [sa.type_coerce(column, sa.Text).label(column.name) for column in columns]
    update = (
        table.update()
        .where(key == sa.bindparam("_key"))
        .values({c.name: sa.bindparam(f"_new_{c.name}", type_=sa.Text) for c in columns})
    )
    rotated = 0
    last = None
    while True:
        query = sa.select(key, *raw).order_by(key).limit(batch_size)
        if last is not None:
            query = query.where(key > last)
        rows = session.execute(query).all()
        if not rows:
            return rotated
        params = []
        for row in rows:
            values = {f"_new_{c.name}": row._mapping[c.name] for c in columns}
            for name, stored in values.items():
                if stored is not None:
                    values[name] = vault.rotate(stored)
                    rotated += 1
            params.append({"_key": row[0], **values})
        session.execute(update, params)
        last = rows[-1][0]
