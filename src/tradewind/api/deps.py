"""What a route asks FastAPI for: the principal, a permission check, the database, a page.

A route reads like this::

    @router.get("/pools", dependencies=[requires(READ, POOL)])
    def get_pools(db: DbDep, page: PageDep) -> PoolCollection:
        with db.read() as session:
            found = pools.list_pools(session, limit=page.limit, offset=page.offset)
            return PoolCollection.from_page(found)

The route owns its transaction (``db.read()`` or ``db.write()``); repositories and
services below it take the session and never commit. ``db.write()`` also writes the
audit-log row (``/eventLogs``) in the same transaction, so every change made through
the API is recorded with who made it, and a change that rolls back leaves no record.

Every route declares the permission it needs with :func:`requires` (checked before the
route body runs); routes about one DAG also call :meth:`Principal.require_dag`-style
checks through :func:`check_dag`. A test walks the app's routes and fails if one has no
permission dependency.

The dependencies here are ``async def`` although they never await: their work is pure
(no I/O), and FastAPI runs a plain ``def`` dependency in a worker thread, a hop that cost
more than the work itself (a request used to make eight of them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.api.auth.middleware import Principal
from tradewind.api.inline_reads import run_read
from tradewind.config import Settings
from tradewind.errors import PermissionDenied, Unauthenticated
from tradewind.security.permissions import DAG, DAG_RUN
from tradewind.services.audit import record_event
from tradewind.storage.engine import transaction
from tradewind.storage.wakeup import notify_scheduler

T = TypeVar("T")


@dataclass(frozen=True)
class ApiState:
    """What the application holds for all requests (``app.state.api``).

    Attributes:
        inline_reads: whether :meth:`Db.run_read` runs on the event loop (SQLite; see
            :mod:`tradewind.api.inline_reads`).
    """

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    inline_reads: bool = False


async def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


async def current_principal(request: Request) -> Principal:
    """The principal the authentication middleware found; 401 if there is none."""
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):
        raise Unauthenticated("Authentication is required to use this API")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def requires(action: str, resource: str) -> Any:
    """A route dependency refusing (403) principals without ``(action, resource)``.

    For ``DAGs`` and ``DAG Runs``, a principal holding the permission on some DAGs only
    (``DAG:etl``) passes here; the route then narrows to those DAGs with
    :func:`check_dag` or ``principal.grants.dag_filter``. Routes about task instances,
    XComs or logs require ``(action, DAGs)`` as well as their own resource, as Airflow.
    """

    async def check(principal: PrincipalDep) -> None:
        grants = principal.grants
        if grants.allows(action, resource):
            return
        if resource in (DAG, DAG_RUN) and grants.dag_filter(action, resource):
            return
        raise PermissionDenied(f"Forbidden: {principal.username} may not {action} on {resource}")

    check.__permission__ = (action, resource)  # type: ignore[attr-defined]
    return Depends(check)


def check_dag(principal: Principal, action: str, dag_id: str, resource: str = DAG) -> None:
    """Raise 403 unless ``principal`` may ``action`` the DAG ``dag_id``."""
    if not principal.grants.allows_dag(action, dag_id, resource):
        raise PermissionDenied(f"Forbidden: {principal.username} may not {action} DAG {dag_id!r}")


class Db:
    """The database, as one request uses it: explicit read and write transactions."""

    def __init__(self, state: ApiState, request: Request, principal: Principal | None) -> None:
        self._state = state
        self._request = request
        self._principal = principal
        self._wake = False

    @contextmanager
    def read(self) -> Iterator[Session]:
        with transaction(self._state.session_factory) as session:
            yield session

    async def run_read(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in a read transaction, from an ``async def`` route: on the
        event loop on SQLite (no worker-thread hop, the costlier part of a short read),
        in a worker thread on PostgreSQL. For bounded reads only (one page of a list).
        """

        def in_transaction() -> T:
            with self.read() as session:
                return work(session)

        return await run_read(self._state.inline_reads, in_transaction)

    @contextmanager
    def write(self, *, event: str | None = None, **extra: Any) -> Iterator[Session]:
        """A read-then-write transaction (SQLite's write lock taken at BEGIN), audited.

        Args:
            event: audit event name; ``api.<operationId>`` when None.
            extra: details for the audit row (never secrets).
        """
        with transaction(self._state.session_factory, sqlite_begin="IMMEDIATE") as session:
            yield session
            self._audit(session, event, extra)

    def wake_scheduler(self) -> None:
        """Wake the schedulers now (after the write committed): a run or clear is waiting."""
        notify_scheduler(self._state.settings, self._state.engine)

    def _audit(self, session: Session, event: str | None, extra: dict[str, Any]) -> None:
        route = self._request.scope.get("route")
        name = event or f"api.{getattr(route, 'name', self._request.url.path)}"
        params = self._request.path_params
        map_index = params.get("map_index")
        record_event(
            session,
            name,
            now=datetime.now(UTC),
            owner=self._principal.username if self._principal else None,
            dag_id=_or_none(params.get("dag_id")),
            run_id=_or_none(params.get("dag_run_id")),
            task_id=params.get("task_id"),
            map_index=int(map_index) if map_index is not None else None,
            extra={"method": self._request.method, "path": self._request.url.path, **extra},
        )


def _or_none(value: str | None) -> str | None:
    return None if value in (None, "~") else value


async def database(request: Request, state: Annotated[ApiState, Depends(api_state)]) -> Db:
    principal = request.scope.get("state", {}).get("principal")
    return Db(state, request, principal if isinstance(principal, Principal) else None)


DbDep = Annotated[Db, Depends(database)]


async def current_settings(state: Annotated[ApiState, Depends(api_state)]) -> Settings:
    return state.settings


SettingsDep = Annotated[Settings, Depends(current_settings)]


#: Largest integer a database column or LIMIT/OFFSET takes (signed 64 bits): a larger
#: one is a 400 rather than an overflow deep in the driver.
_MAX_SQL_INT = 2**63 - 1


@dataclass(frozen=True)
class PageParams:
    """``limit`` (capped at ``[api] maximum_page_limit``), ``offset`` and ``order_by``."""

    limit: int
    offset: int
    order_by: str | None


async def page_params(
    request: Request,
    limit: Annotated[int | None, Query(ge=0, le=_MAX_SQL_INT)] = None,
    offset: Annotated[int, Query(ge=0, le=_MAX_SQL_INT)] = 0,
    order_by: str | None = None,
) -> PageParams:
    api = (await api_state(request)).settings.api
    wanted = api.fallback_page_limit if limit is None else limit
    # Airflow caps an over-large limit silently rather than refusing it.
    return PageParams(min(wanted, api.maximum_page_limit), offset, order_by or None)


PageDep = Annotated[PageParams, Depends(page_params)]
