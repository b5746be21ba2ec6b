"""``PluginCollectionItem`` and ``PluginCollection``: loaded plugins.

Tradewind loads no plugins yet (``[core] plugins_folder`` is not read), so the
collection is always empty; the item is declared so that its shape is Airflow's when
plugins come.
"""

from __future__ import annotations

from typing import Any

from tradewind.api.schemas.base import ResponseBody


class PluginCollectionItem(ResponseBody):
    name: str
    hooks: list[str | None]
    executors: list[str | None]
    macros: list[str | None]
    flask_blueprints: list[str | None]
    appbuilder_views: list[dict[str, Any] | None]
    appbuilder_menu_items: list[dict[str, Any] | None]
    global_operator_extra_links: list[str | None]
    operator_extra_links: list[str | None]
    source: str | None
    ti_deps: list[str]
    listeners: list[str]
    timetables: list[str]


class PluginCollection(ResponseBody):
    plugins: list[PluginCollectionItem]
    total_entries: int
