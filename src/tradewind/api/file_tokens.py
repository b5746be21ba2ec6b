"""``file_token``: a DAG file's location, signed, so clients can name a file but not forge one.

Airflow's ``DAG.file_token`` is ``fileloc`` signed with itsdangerous; ``/dagSources`` and
``/parseDagFile`` take it back. The signature is what keeps a client from asking for an
arbitrary path: a token this deployment did not sign (forged or altered) names nothing.
Even a valid token is only ever used as a key into the database (``dag_code``, ``dag``),
never opened as a file.

The key is ``[webserver] secret_key`` or, when that is empty, one derived from the Fernet
key (which every process of a deployment shares), under a salt of its own: a session
cookie is not a file token, nor the other way round.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from tradewind.config import Settings
from tradewind.errors import NotFound

_SALT = "tradewind-file-token"


class FileTokens:
    """Signs DAG file locations and reads them back for one deployment."""

    def __init__(self, settings: Settings) -> None:
        self._serializer, self._token_of = _signer(
            settings.webserver.secret_key, settings.core.fernet_key
        )

    def token_of(self, fileloc: str) -> str:
        """The token of ``fileloc``: the same every time (signing is deterministic), so
        it is made once per location and process; a list of 100 DAGs signed 100 times
        otherwise (zlib, JSON and two HMACs each)."""
        return self._token_of(fileloc)

    def fileloc_of(self, token: str, *, missing: str = "File not found") -> str:
        """The location ``token`` was made for.

        Raises:
            NotFound: (``missing``) the token was not signed here or was altered.
        """
        try:
            fileloc: Any = self._serializer.loads(token)
        except BadSignature:
            raise NotFound(missing) from None
        if not isinstance(fileloc, str):
            raise NotFound(missing)
        return fileloc


#: Locations whose tokens a process remembers (per deployment key); a few MB at most.
_REMEMBERED_TOKENS = 16384


@lru_cache(maxsize=4)
def _signer(secret_key: str, fernet_key: str) -> tuple[URLSafeSerializer, Callable[[str], str]]:
    """The serializer for these keys, and its ``dumps`` remembering recent locations."""
    secret = (
        secret_key
        or hmac.new(fernet_key.encode(), b"tradewind file token key", hashlib.sha256).hexdigest()
    )
    serializer = URLSafeSerializer(secret, salt=_SALT)

    @lru_cache(maxsize=_REMEMBERED_TOKENS)
    def token_of(fileloc: str) -> str:
        token: str = serializer.dumps(fileloc)
        return token

    return serializer, token_of
