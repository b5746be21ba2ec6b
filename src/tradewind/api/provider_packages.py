"""The provider packages installed beside Tradewind (``GET /providers``).

A provider is a distribution that registers an entry point in the group
``apache_airflow_provider`` (every Airflow provider package does) or
``tradewind.providers``. Tradewind's own operators are part of Tradewind, not a
provider, so a plain installation lists none.

Airflow calls each provider's ``get_provider_info`` for its description; this reads the
distribution's metadata instead (name, version, summary) and imports nothing, so a
provider whose code needs Airflow itself cannot break the listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points

#: Entry-point groups that mark a distribution as a provider.
PROVIDER_GROUPS = ("apache_airflow_provider", "tradewind.providers")


@dataclass(frozen=True)
class ProviderPackage:
    package_name: str
    version: str
    description: str


def installed_providers() -> list[ProviderPackage]:
    """Provider distributions installed now, by package name (each listed once)."""
    found: dict[str, ProviderPackage] = {}
    for group in PROVIDER_GROUPS:
        for entry_point in entry_points(group=group):
            dist = entry_point.dist
            if dist is None:
                continue
            name = dist.metadata["Name"] or dist.name
            found.setdefault(
                name,
                ProviderPackage(
                    package_name=name,
                    version=dist.version,
                    description=(dist.metadata["Summary"] or "").strip(),
                ),
            )
    return sorted(found.values(), key=lambda package: package.package_name)
