"""Every dependency of every route is ``async``: FastAPI runs a plain ``def`` dependency
in a worker thread, a hop per request that cost more than the dependency's work."""

from __future__ import annotations

import inspect

from fastapi.dependencies.models import Dependant

from tradewind.api.app import ROUTERS
from tradewind.api.auth.middleware import API_PREFIX


def _sync_dependencies(dependant: Dependant) -> set[str]:
    found = set()
    for dependency in dependant.dependencies:
        call = dependency.call
        if call is not None and not inspect.iscoroutinefunction(call):
            found.add(f"{call.__module__}.{call.__qualname__}")
        found |= _sync_dependencies(dependency)
    return found


def test_no_route_depends_on_a_plain_function() -> None:
    offenders = {
        f"{API_PREFIX}{route.path}": sorted(found)
        for router in ROUTERS
        for route in router.routes
        if (found := _sync_dependencies(route.dependant))  # type: ignore[attr-defined]
    }

    assert offenders == {}
