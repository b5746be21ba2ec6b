"""Encryption at rest of secrets: connection passwords and extras, variables, trigger kwargs.

Design: the key travels with the engine, not through global configuration.
:func:`tradewind.storage.engine.create_engine_from_settings` builds a :class:`FernetVault`
from ``[core] fernet_key`` and attaches it to the new engine's dialect with
:func:`attach_vault`. The column types below receive that dialect on every bind and
result, so they find the vault of the engine doing the work. Two engines in one process
(a test, ``rotate-fernet-key``) can therefore hold different keys, and importing a table
module never reads configuration. An engine with no vault refuses to touch an encrypted
column, with a message saying so, rather than silently storing plaintext.

Keys are comma-separated, as in Airflow: the first one encrypts, every one decrypts, so a
key is rotated by prepending the new one, re-encrypting (:meth:`FernetVault.rotate`),
then dropping the old one. An empty key stores values unencrypted (logged as a warning)
and records ``is_encrypted = False`` beside them, as Airflow does.

Stored values are standard Fernet tokens. Reading does not depend on the ``is_encrypted``
flags: a value that is not a Fernet token is plaintext written while no key was set, so
enabling a key later keeps old rows readable.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import weakref
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.types import TypeDecorator

from tradewind.errors import ConfigError, DatabaseError

logger = logging.getLogger(__name__)

#: Fernet token layout: version (1) + timestamp (8) + IV (16) + ciphertext (16n) + HMAC (32).
_TOKEN_OVERHEAD = 57
_FERNET_VERSION = 0x80


class FernetVault:
    """Encrypts with the first of its keys and decrypts with any of them.

    Args:
        keys: ``[core] fernet_key``: comma-separated url-safe base64 32-byte keys, or "".

    Raises:
        ConfigError: a key is not a valid Fernet key.
    """

    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        try:
            fernets = [Fernet(part.encode("ascii")) for part in parts]
        except (ValueError, UnicodeEncodeError) as exc:
            raise ConfigError(
                "[core] fernet_key is invalid: each comma-separated key must be "
                "32 url-safe base64-encoded bytes"
            ) from exc
        self._fernet = MultiFernet(fernets) if fernets else None
        if self._fernet is None:
            logger.warning(
                "[core] fernet_key is empty: connection passwords, extras and variables "
                "are stored unencrypted"
            )

    @property
    def encrypts(self) -> bool:
        """Whether values written now are encrypted (a key is configured)."""
        return self._fernet is not None

    def encrypt(self, plaintext: str) -> str:
        """The stored form of ``plaintext``: a Fernet token, or itself without a key."""
        if self._fernet is None:
            return plaintext
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """The plaintext of a stored value.

        Raises:
            DatabaseError: the value is encrypted and no configured key opens it.
        """
        if not looks_encrypted(stored):
            return stored
        if self._fernet is None:
            raise DatabaseError(
                "A stored secret is encrypted but [core] fernet_key is empty; "
                "configure the key it was written with"
            )
        try:
            return self._fernet.decrypt(stored.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise DatabaseError(
                "A stored secret cannot be decrypted with [core] fernet_key; when rotating, "
                "keep the old key after the new one (new_key,old_key)"
            ) from exc

    def rotate(self, stored: str) -> str:
        """Re-encrypt a stored value with the first key (plaintext gets encrypted)."""
        return self.encrypt(self.decrypt(stored))


def looks_encrypted(stored: str) -> bool:
    """Whether ``stored`` has the shape of a Fernet token (not whether a key opens it)."""
    try:
        raw = base64.urlsafe_b64decode(stored.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False
    size = len(raw) - _TOKEN_OVERHEAD
    return raw[:1] == bytes([_FERNET_VERSION]) and size >= 16 and size % 16 == 0


_VAULTS: weakref.WeakKeyDictionary[Dialect, FernetVault] = weakref.WeakKeyDictionary()


def attach_vault(engine: Engine, vault: FernetVault) -> None:
    """Make ``vault`` the one encrypted columns use on ``engine`` (each engine has its dialect)."""
    _VAULTS[engine.dialect] = vault


def vault_for(dialect: Dialect) -> FernetVault:
    """The vault attached to the engine owning ``dialect``.

    Raises:
        DatabaseError: no vault was attached to that engine.
    """
    vault = _VAULTS.get(dialect)
    if vault is None:
        raise DatabaseError(
            "This database engine has no Fernet key: build it with "
            "create_engine_from_settings(..., fernet_key=settings.core.fernet_key)"
        )
    return vault


def encrypts_now(context: Any) -> bool:
    """Column default of the ``is_encrypted`` flags: whether the writing engine encrypts."""
    return vault_for(context.dialect).encrypts


class EncryptedText(TypeDecorator[str]):
    """Text stored as a Fernet token with the engine's vault; plaintext in Python."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else vault_for(dialect).encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else vault_for(dialect).decrypt(value)


class EncryptedJson(TypeDecorator[Any]):
    """A JSON document (trigger kwargs) serialised, then stored as a Fernet token."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return vault_for(dialect).encrypt(json.dumps(value, separators=(",", ":")))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(vault_for(dialect).decrypt(value))
