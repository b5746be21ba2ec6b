"""The FastAPI application serving ``/api/v1``.

:func:`create_api_app` builds it from settings: the routers of :data:`ROUTERS` under
``/api/v1``, the problem-document handlers, and the authentication middleware with the
backends ``[api] auth_backends`` selects. Building the app touches no database;
:func:`prepare_database` (run once by ``tradewind api-server`` before serving) creates
the default roles.

FastAPI's own generated schema and docs are switched off: the contract served at
``/api/v1/openapi.yaml`` is Airflow's spec (see :mod:`tradewind.api.routes.spec`).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from sqlalchemy.engine import Engine

from tradewind.api.auth.backends import load_backends
from tradewind.api.auth.middleware import API_PREFIX, AuthenticationMiddleware
from tradewind.api.deps import ApiState
from tradewind.api.inline_reads import reads_inline
from tradewind.api.problems import install_problem_handlers
from tradewind.api.routes import (
    config,
    connections,
    dag_runs,
    dag_sources,
    dag_stats,
    dag_warnings,
    dags,
    datasets,
    event_logs,
    import_errors,
    monitoring,
    plugins,
    pools,
    providers,
    roles,
    spec,
    task_instance_actions,
    task_instances,
    task_logs,
    users,
    variables,
    xcom,
)
from tradewind.api.routes.login import router as login_router
from tradewind.config import Settings, load_settings
from tradewind.processes import freeze_startup_objects
from tradewind.security.permissions import sync_default_roles
from tradewind.storage.engine import create_engine_from_settings, session_factory, transaction

#: Every router of ``/api/v1``. Order matters only where paths overlap, and none do
#: except inside a module, which orders its own routes.
ROUTERS: tuple[APIRouter, ...] = (
    monitoring.router,
    connections.router,
    dags.router,
    dag_sources.router,
    dag_stats.router,
    dag_warnings.router,
    dag_runs.router,
    task_instance_actions.router,
    task_instances.router,
    task_logs.router,
    xcom.router,
    datasets.router,
    variables.router,
    pools.router,
    import_errors.router,
    event_logs.router,
    providers.router,
    plugins.router,
    config.router,
    users.router,
    roles.router,
    spec.router,
)


def create_api_app(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    """The ``/api/v1`` application for ``settings``.

    Args:
        settings: the deployment's configuration.
        engine: the metadata database; one is created from ``settings`` when None.

    Raises:
        ConfigError: ``[api] auth_backends`` names an unknown or refused backend.
    """
    engine = engine or create_engine_from_settings(
        settings.database, fernet_key=settings.core.fernet_key
    )
    factory = session_factory(engine)
    app = FastAPI(
        title="Tradewind REST API",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = ApiState(
        settings=settings,
        engine=engine,
        session_factory=factory,
        inline_reads=reads_inline(engine),
    )
    install_problem_handlers(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(login_router)  # /auth/login and /auth/logout: outside the gate
    app.add_middleware(
        AuthenticationMiddleware,
        backends=load_backends(settings),
        engine=engine,
        session_factory=factory,
    )
    return app


def create_app_from_environment() -> FastAPI:
    """The app for ``$TRADEWIND_HOME``'s settings: the factory of each uvicorn worker."""
    app = create_api_app(load_settings())
    freeze_startup_objects()
    return app


def prepare_database(engine: Engine) -> None:
    """Create the default roles and their permissions (idempotent)."""
    with transaction(session_factory(engine), sqlite_begin="IMMEDIATE") as session:
        sync_default_roles(session)
