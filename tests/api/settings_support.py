"""A second live server on the test's database, with some settings changed.

For behaviour that depends on configuration (``[core] test_connection``,
``[webserver] expose_config``) next to the ``api_server`` fixture's defaults::

    with client_with_settings(api_server, "admin", "webserver", expose_config=True) as c:
        c.get("/config")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from api_support import LiveServer, make_client, serve

from tradewind.api.app import create_api_app


@contextmanager
def client_with_settings(
    server: LiveServer, username: str, section: str, **changes: Any
) -> Iterator[httpx.Client]:
    """A client of a new server like ``server`` but with ``[section]`` ``changes``."""
    settings = server.settings.replace(section, **changes)
    with serve(create_api_app(settings, engine=server.engine)) as url:
        with make_client(LiveServer(url, settings, server.engine), username) as client:
            yield client
