"""``/providers``: provider packages installed beside Tradewind."""

from __future__ import annotations

from fastapi import APIRouter

from tradewind.api.deps import requires
from tradewind.api.provider_packages import installed_providers
from tradewind.api.schemas.provider import ProviderCollection
from tradewind.security.permissions import PROVIDER, READ

router = APIRouter(tags=["Provider"])


@router.get("/providers", name="get_providers", dependencies=[requires(READ, PROVIDER)])
def get_providers() -> ProviderCollection:
    return ProviderCollection.from_packages(installed_providers())
