"""``POST /connections/test``: a best-effort reachability check of a connection.

Airflow tests a connection by building the provider's hook and calling its
``test_connection``. Tradewind has no hooks, so it checks what it can without one:
whether the connection's host accepts a TCP connection on its port (the port given,
else the usual port of its type, e.g. 5432 for ``postgres``), within
:data:`TIMEOUT_SECONDS`. It does not log in, send a query or make an HTTP request, and
it says so in the message. A ``sqlite`` connection is checked by whether its database
file exists. Any other connection without a host or a known port is reported as not
testable (``status`` false), never as working.

The endpoint is off unless ``[core] test_connection = Enabled``: it lets a user make
the server open connections to hosts of their choosing.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

#: Seconds one TCP connection attempt may take.
TIMEOUT_SECONDS = 3.0

#: Usual ports of common connection types (and URL schemes in an http host).
DEFAULT_PORTS: dict[str, int] = {
    "amqp": 5672,
    "elasticsearch": 9200,
    "ftp": 21,
    "ftps": 21,
    "http": 80,
    "https": 443,
    "imap": 143,
    "mongo": 27017,
    "mssql": 1433,
    "mysql": 3306,
    "oracle": 1521,
    "postgres": 5432,
    "redis": 6379,
    "sftp": 22,
    "smtp": 25,
    "ssh": 22,
    "trino": 8080,
    "vertica": 5433,
}


@dataclass(frozen=True)
class ProbeResult:
    status: bool
    message: str


def probe_connection(conn_type: str, host: str | None, port: int | None) -> ProbeResult:
    """Check whether a connection of ``conn_type`` to ``host``:``port`` is reachable.

    Never raises for an unreachable or malformed target: the result says what failed.
    """
    if conn_type == "sqlite":
        return _probe_sqlite_file(host)
    if not host:
        return ProbeResult(False, f"Cannot test a {conn_type!r} connection without a host")
    target_host, target_port = _target(conn_type, host, port)
    if target_port is None:
        return ProbeResult(
            False,
            f"Cannot test a {conn_type!r} connection without a port: Tradewind has no "
            "hook for this type and does not know its usual port",
        )
    try:
        with socket.create_connection((target_host, target_port), timeout=TIMEOUT_SECONDS):
            pass
    except OSError as exc:
        return ProbeResult(False, f"Could not connect to {target_host}:{target_port}: {exc}")
    return ProbeResult(
        True,
        f"Connection successfully tested: {target_host}:{target_port} accepts TCP "
        "connections (Tradewind checks reachability only, not credentials)",
    )


def _target(conn_type: str, host: str, port: int | None) -> tuple[str, int | None]:
    """Host and port to connect to; an http host may be a URL (``https://api.example``)."""
    if "://" in host:
        parts = urlsplit(host)
        try:
            url_port = parts.port
        except ValueError:
            url_port = None
        return (
            parts.hostname or host,
            port or url_port or DEFAULT_PORTS.get(parts.scheme.lower()),
        )
    return host, port or DEFAULT_PORTS.get(conn_type.lower())


def _probe_sqlite_file(host: str | None) -> ProbeResult:
    if not host:
        return ProbeResult(False, "A sqlite connection needs the database file's path as host")
    if Path(host).is_file():
        return ProbeResult(True, f"Connection successfully tested: {host} exists")
    return ProbeResult(False, f"No database file at {host}")
