"""Variables: key/value settings for DAGs (``{{ var.value.x }}``). Values are encrypted."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.storage.fernet import EncryptedText, encrypts_now
from tradewind.storage.tables.base import ID_LENGTH, Base


class VariableRow(Base):
    """One variable (API ``Variable``); ``val`` is plaintext in Python, a Fernet token at rest."""

    __tablename__ = "variable"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(sa.String(ID_LENGTH), unique=True)
    val: Mapped[str | None] = mapped_column(EncryptedText)
    description: Mapped[str | None] = mapped_column(sa.Text)
    is_encrypted: Mapped[bool] = mapped_column(default=encrypts_now, onupdate=encrypts_now)
