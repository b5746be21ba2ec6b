"""``/plugins``: loaded plugins (none: Tradewind does not load plugins yet)."""

from __future__ import annotations

from fastapi import APIRouter

from tradewind.api.deps import PageDep, requires
from tradewind.api.schemas.plugin import PluginCollection, PluginCollectionItem
from tradewind.security.permissions import PLUGIN, READ

router = APIRouter(tags=["Plugin"])

#: The plugins this process loaded.
LOADED_PLUGINS: tuple[PluginCollectionItem, ...] = ()


@router.get("/plugins", name="get_plugins", dependencies=[requires(READ, PLUGIN)])
def get_plugins(page: PageDep) -> PluginCollection:
    window = LOADED_PLUGINS[page.offset : page.offset + page.limit]
    return PluginCollection(plugins=list(window), total_entries=len(LOADED_PLUGINS))
