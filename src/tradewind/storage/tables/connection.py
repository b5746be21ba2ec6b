"""Connections: how tasks reach external systems. Password and extra are encrypted."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.storage.fernet import EncryptedText, encrypts_now
from tradewind.storage.tables.base import ID_LENGTH, Base


class ConnectionRow(Base):
    """One connection (API ``Connection``).

    ``password`` and ``extra`` read and write plaintext in Python and are Fernet tokens in
    the database (see :mod:`tradewind.storage.fernet`). The ``is_*encrypted`` flags record
    whether the engine that last wrote the row had a key, as Airflow's columns do.
    """

    __tablename__ = "connection"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conn_id: Mapped[str] = mapped_column(sa.String(ID_LENGTH), unique=True)
    conn_type: Mapped[str] = mapped_column(sa.String(500))
    description: Mapped[str | None] = mapped_column(sa.Text)
    host: Mapped[str | None] = mapped_column(sa.String(500))
    schema: Mapped[str | None] = mapped_column(sa.String(500))
    login: Mapped[str | None] = mapped_column(sa.Text)
    password: Mapped[str | None] = mapped_column(EncryptedText)
    port: Mapped[int | None] = mapped_column()
    extra: Mapped[str | None] = mapped_column(EncryptedText)
    is_encrypted: Mapped[bool] = mapped_column(default=encrypts_now, onupdate=encrypts_now)
    is_extra_encrypted: Mapped[bool] = mapped_column(default=encrypts_now, onupdate=encrypts_now)
