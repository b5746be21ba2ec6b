"""The configuration file on disk: reading it, writing it once, and running ``_cmd`` options.

:mod:`tradewind.config` decides what the options are and which value wins; this module
only does the I/O it needs, on plain primitives (a path, INI text, a shell command), so
that it depends on nothing above :mod:`tradewind.errors`. Every failure is a
:class:`~tradewind.errors.ConfigError` whose message fits on one line.
"""

from __future__ import annotations

import base64
import configparser
import os
import secrets
import subprocess
import tempfile
from pathlib import Path

from tradewind.errors import ConfigError

#: Seconds a ``KEY_cmd`` command may run before it is a ConfigError.
CMD_TIMEOUT = 60


def read_config_file(path: Path) -> configparser.ConfigParser:
    """Parse ``path`` as INI text without interpolation; a missing file reads as empty.

    Raises:
        ConfigError: the file cannot be opened or is not valid INI text.
    """
    parser = configparser.ConfigParser(interpolation=None)
    if not path.exists():
        return parser
    try:
        # read_file, not read: read() silently skips a file it cannot open.
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    except (configparser.Error, UnicodeDecodeError) as exc:
        # configparser spreads the line number over several lines; keep it on one.
        one_line = " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
        raise ConfigError(f"{path} is not a valid config file: {one_line}") from exc
    return parser


def write_config_file_once(path: Path, text: str) -> None:
    """Create ``path`` holding ``text``, unless it already exists (then do nothing).

    The file appears complete or not at all, and when two processes start at once the
    first file wins, so both read the same generated secrets.

    Raises:
        ConfigError: the folder or the file cannot be written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            # link, not replace: replace would let the last process overwrite the first.
            os.link(tmp_name, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp_name)
    except OSError as exc:
        raise ConfigError(f"{path} cannot be written: {exc.strerror or exc}") from exc


def run_cmd(section: str, key: str, command: str) -> str:
    """The stripped stdout of the shell ``command`` configured as ``[section] key_cmd``.

    Raises:
        ConfigError: the command cannot start, times out or exits non-zero.
    """
    try:
        done = subprocess.run(
            command, shell=True, capture_output=True, text=True, timeout=CMD_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"[{section}] {key}_cmd could not run: {exc}") from exc
    if done.returncode != 0:
        raise ConfigError(
            f"[{section}] {key}_cmd exited with code {done.returncode}: {done.stderr.strip()}"
        )
    return done.stdout.strip()


def generate_fernet_key() -> str:
    """A url-safe base64 32-byte key, the format ``cryptography.fernet.Fernet`` expects."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
