"""The log of one try as ``get_log`` answers it, in Airflow 2.10's shapes.

Clients written for Airflow parse these exact shapes:

* JSON: ``content`` is the text Python gives a list of one (host, log) pair, as
  Airflow's handler returns it, e.g.
  ``"[('worker-1', '*** Found local files:\\n***   * /logs/.../attempt=1.log\\n...')]"``;
  ``continuation_token`` is ``{"end_of_log": ..., "log_pos": ...}`` signed with
  itsdangerous' ``URLSafeSerializer``;
* ``text/plain``: ``<host>\\n<log>\\n``, always the whole log.

Tokens are signed under ``[webserver] secret_key``, exactly as Airflow signs them
under its Flask ``SECRET_KEY``, so the token recipe in the spec's description works
unchanged; when that key is empty, under a key derived from the Fernet key (which every
process of a deployment shares), as session cookies are.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from tradewind.api.schemas.base import ResponseBody
from tradewind.config import Settings
from tradewind.errors import InvalidInput
from tradewind.services.task_logs import LogChunk


class LogResponse(ResponseBody):
    """The spec's inline JSON answer of ``get_log``."""

    continuation_token: str
    content: str

    @classmethod
    def from_chunk(cls, chunk: LogChunk, hostname: str | None, token: str) -> LogResponse:
        return cls(continuation_token=token, content=repr([(hostname or "", _log_text(chunk))]))


def plain_text_log(chunk: LogChunk, hostname: str | None) -> str:
    return f"{hostname or ''}\n{_log_text(chunk)}\n"


def _log_text(chunk: LogChunk) -> str:
    return "".join(f"*** {message}\n" for message in chunk.messages) + chunk.text


class LogTokens:
    """Signs and reads continuation tokens (``{"end_of_log", "log_pos"}``)."""

    def __init__(self, settings: Settings) -> None:
        key = (
            settings.webserver.secret_key
            or hmac.new(
                settings.core.fernet_key.encode(), b"tradewind log token key", hashlib.sha256
            ).hexdigest()
        )
        self._serializer = URLSafeSerializer(key)

    def dumps(self, chunk: LogChunk) -> str:
        token: str = self._serializer.dumps(
            {"end_of_log": chunk.end_of_log, "log_pos": chunk.log_pos}
        )
        return token

    def log_pos(self, token: str | None) -> int | None:
        """The position ``token`` continues from; None for no token, or one without it.

        Raises:
            InvalidInput: the token was not signed here, or holds no valid position.
        """
        if not token:
            return None
        try:
            metadata: Any = self._serializer.loads(token)
        except BadSignature:
            raise InvalidInput(
                "Bad Signature. Please use only the tokens provided by the API."
            ) from None
        if not isinstance(metadata, dict):
            raise InvalidInput("The continuation token holds no log metadata")
        log_pos = metadata.get("log_pos")
        if log_pos is None:
            return None
        if not isinstance(log_pos, int) or isinstance(log_pos, bool) or log_pos < 0:
            raise InvalidInput(f"The continuation token's log_pos is invalid: {log_pos!r}")
        return log_pos
