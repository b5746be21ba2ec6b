"""``Provider`` and ``ProviderCollection``: installed provider packages."""

from __future__ import annotations

from tradewind.api.provider_packages import ProviderPackage
from tradewind.api.schemas.base import ResponseBody


class Provider(ResponseBody):
    package_name: str
    description: str
    version: str

    @classmethod
    def from_package(cls, package: ProviderPackage) -> Provider:
        return cls(
            package_name=package.package_name,
            description=package.description,
            version=package.version,
        )


class ProviderCollection(ResponseBody):
    providers: list[Provider]
    total_entries: int

    @classmethod
    def from_packages(cls, packages: list[ProviderPackage]) -> ProviderCollection:
        return cls(
            providers=[Provider.from_package(package) for package in packages],
            total_entries=len(packages),
        )
