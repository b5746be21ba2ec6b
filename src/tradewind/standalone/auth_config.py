"""Turn on Basic and session authentication for a standalone deployment.

``[api] auth_backends`` defaults to deny-all, which is right for a server someone set up
on purpose but leaves a fresh ``tradewind standalone`` with an API nobody can call. When
the user has not chosen backends (neither ``auth_backends`` nor Airflow's older
``auth_backend``, in the file or the environment), standalone writes
:data:`STANDALONE_AUTH_BACKENDS` into ``tradewind.cfg``, so the generated admin password
works with ``curl -u admin:...`` and with the UI's login form. The line is written into
the file, not just used in memory, so the choice is visible and can be edited.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tradewind.config import ENV_PREFIX, Settings
from tradewind.config_file import read_config_file

STANDALONE_AUTH_BACKENDS = "tradewind.api.auth.basic_auth,tradewind.api.auth.session"
_SECTION = "api"
_KEYS = ("auth_backends", "auth_backend")


def enable_basic_auth(settings: Settings, environ: Mapping[str, str] | None = None) -> bool:
    """Write :data:`STANDALONE_AUTH_BACKENDS` into the config file unless backends are set.

    Args:
        settings: the loaded settings (their ``config_file`` is the file changed).
        environ: where ``TRADEWIND__API__AUTH_BACKEND(S)`` overrides are looked for;
            ``os.environ`` when None.

    Returns:
        True when the file was changed; False when the user had chosen backends.

    Raises:
        ConfigError: the config file cannot be read.
        OSError: it cannot be written.
    """
    env = os.environ if environ is None else environ
    if any(f"{ENV_PREFIX}{_SECTION.upper()}__{key.upper()}" in env for key in _KEYS):
        return False
    path = settings.config_file
    parser = read_config_file(path)
    if any(parser.has_option(_SECTION, key) for key in _KEYS):
        return False
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    _replace_file(path, add_option(text, _SECTION, "auth_backends", STANDALONE_AUTH_BACKENDS))
    return True


def add_option(text: str, section: str, key: str, value: str) -> str:
    """INI ``text`` with ``key = value`` as the first line of ``[section]``.

    Comments and every other line are kept as they are; the section is appended when the
    text has none.
    """
    line = f"{key} = {value}\n"
    header = re.search(rf"^\[{re.escape(section)}\][ \t]*(?:\r?\n|$)", text, flags=re.MULTILINE)
    if header is None:
        separator = "" if not text or text.endswith("\n") else "\n"
        return f"{text}{separator}\n[{section}]\n{line}"
    head = text[: header.end()]
    if not head.endswith("\n"):
        head += "\n"
    return head + line + text[header.end() :]


def _replace_file(path: Path, text: str) -> None:
    # The file holds the fernet key: keep its permissions, and never show it half written.
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o600
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
