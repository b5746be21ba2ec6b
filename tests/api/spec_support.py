"""What the API implements of the spec, and a small world of real objects to ask it about.

The conformance and role-matrix tests derive the operations they test from the app's own
routes (``ROUTERS``, which ``create_api_app`` mounts under ``/api/v1``), so they grow as
routes land: :func:`routes_of` lists every route with the permissions it declares, and
:func:`implemented_operations` matches the routes to the spec's operations by method and
path template.

:func:`seed_world` stores a real DAG file (through the DAG processor), a finished run with
task instances, tries, an XCom, a connection, a variable, an import error and a dataset
event, and returns the values the path parameters of the spec's operations take to name
them (``dag_id``, ``dag_run_id``, ``task_id``...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa
import yaml
from fastapi import APIRouter
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session, sessionmaker

from tradewind.api.app import ROUTERS
from tradewind.services.dag_runs import trigger_dag_run
from tradewind.storage.engine import transaction
from tradewind.storage.tables import (
    ConnectionRow,
    DatasetDagRunQueueRow,
    DatasetEventRow,
    DatasetRow,
    ImportErrorRow,
    LogRow,
    TaskInstanceHistoryRow,
    TaskInstanceRow,
    VariableRow,
    XComRow,
)

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
_PARAMETER = re.compile(r"\{[^}]*\}")

#: Two tasks, Params, tags, docs, and a dataset it both updates and is scheduled on (so
#: the dataset has a producer, a consumer and a queued event): non-trivial responses.
WORLD_DAG = '''
    """A DAG the conformance tests read about."""
    from datetime import datetime

    from tradewind import DAG, Dataset
    from tradewind.operators import EmptyOperator

    with DAG(
        "conformance",
        schedule=[Dataset("s3://bucket/conformance")],
        start_date=datetime(2024, 1, 1),
        tags=["api", "conformance"],
        params={"rows": 10},
        doc_md=__doc__,
    ) as dag:
        extract = EmptyOperator(task_id="extract", outlets=[Dataset("s3://bucket/conformance")])
        load = EmptyOperator(task_id="load")
        transform = EmptyOperator(task_id="transform")
        extract >> [transform, load]
'''
WORLD_DATASET_URI = "s3://bucket/conformance"
#: The task whose instances are stored as mapped (indexes 0 and 1), for the mapped
#: operations' paths. The SDK cannot map tasks yet, so the rows are written directly.
MAPPED_VALUES = {"task_id": "transform", "map_index": "0"}


@dataclass(frozen=True)
class GuardedRoute:
    """One method of one route, with the ``(action, resource)`` pairs it requires."""

    method: str
    path: str
    name: str
    permissions: tuple[tuple[str, str], ...]

    @property
    def template(self) -> str:
        """The path with every parameter written ``{}``, to match the spec's."""
        return _PARAMETER.sub("{}", self.path)


@dataclass(frozen=True)
class SpecOperation:
    """An operation of the spec that the app implements."""

    method: str
    path: str
    operation_id: str
    route: GuardedRoute


@cache
def spec_document() -> dict[str, Any]:
    """The spec the API serves (the package's copy of Airflow's)."""
    raw = files("tradewind.api").joinpath("openapi").joinpath("v1.yaml").read_bytes()
    document: dict[str, Any] = yaml.safe_load(raw)
    return document


def routes_of(routers: Iterable[APIRouter] = ROUTERS) -> list[GuardedRoute]:
    """Every route method of ``routers`` (the app's, under ``/api/v1``), with the
    permissions it declares. Paths are relative to ``/api/v1``, as in the spec."""
    found = []
    for router in routers:
        for route in router.routes:
            assert isinstance(route, APIRoute), route
            permissions = tuple(
                dep.call.__permission__
                for dep in route.dependant.dependencies
                if hasattr(dep.call, "__permission__")
            )
            for method in sorted(route.methods - {"HEAD"}):
                found.append(GuardedRoute(method.lower(), route.path, route.name, permissions))
    return found


def implemented_operations(routers: Iterable[APIRouter] = ROUTERS) -> list[SpecOperation]:
    """The spec's operations the app has a route for, in the spec's order."""
    routes = {(route.method, route.template): route for route in routes_of(routers)}
    operations = []
    for path, item in spec_document()["paths"].items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            route = routes.get((method, _PARAMETER.sub("{}", path)))
            if route is not None:
                operations.append(SpecOperation(method, path, item[method]["operationId"], route))
    return operations


def parameters_of(path: str, method: str) -> list[dict[str, Any]]:
    """The parameters of the spec's operation (the path's and its own, references resolved)."""
    item = spec_document()["paths"][path]
    found = [*item.get("parameters", ()), *item[method].get("parameters", ())]
    return [_resolved(each) for each in found]


def _resolved(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec_document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@dataclass(frozen=True)
class World:
    """Values of path parameters naming objects that exist (see :func:`seed_world`)."""

    path_values: dict[str, str]

    def with_values(self, **values: str) -> World:
        return World({**self.path_values, **values})

    def values_for(self, path: str) -> dict[str, str]:
        """The path values for the spec path ``path``: a mapped task's on mapped paths."""
        if re.search(r"\{map_index[:}]", path) or path.endswith("/listMapped"):
            return {**self.path_values, **MAPPED_VALUES}
        return self.path_values

    def fill(self, path: str, overrides: dict[str, str] | None = None) -> str:
        """``path`` with each ``{name}`` replaced by the world's value (or ``"unknown"``),
        percent-encoded (a dataset URI's slashes too)."""
        values = {**self.values_for(path), **(overrides or {})}

        def value(match: re.Match[str]) -> str:
            name = match.group(0)[1:-1].split(":")[0]
            return quote(values.get(name, "unknown"), safe="")

        return _PARAMETER.sub(value, path)


def with_file_token(world: World, client: httpx.Client) -> World:
    """``world`` with the DAG's ``file_token``, once the dags route can make one."""
    dag = client.get(f"/dags/{world.path_values['dag_id']}")
    if dag.status_code != 200:
        return world
    return world.with_values(file_token=dag.json()["file_token"])


def seed_world(
    session_factory: sessionmaker[Session], add_dag_file: Callable[[str, str], None]
) -> World:
    """Store the conformance DAG and objects around it; return their path values."""
    add_dag_file("conformance.py", WORLD_DAG)
    add_dag_file("broken.py", "from tradewind import DAG\nimport no_such_module_anywhere\n")
    start = datetime(2024, 1, 2, tzinfo=UTC)
    with transaction(session_factory, sqlite_begin="IMMEDIATE") as session:
        run = trigger_dag_run(
            session,
            "conformance",
            now=start,
            logical_date=start,
            conf={"rows": 3},
            note="seeded",
            owner="admin",
        )
        run.state, run.start_date = "success", start
        run.end_date = start + timedelta(seconds=4)
        session.flush()
        for task_id, offset in (("extract", 0), ("load", 2)):
            for row in _tries(run.run_id, task_id, start + timedelta(seconds=offset)):
                session.add(row)
                session.flush()  # the earlier try refers to the task instance
        session.add_all(_mapped(run.run_id, start + timedelta(seconds=2)))
        session.add(
            XComRow(
                dag_id="conformance",
                run_id=run.run_id,
                task_id="extract",
                key="return_value",
                value={"rows": 3},
                timestamp=start,
            )
        )
        session.add(
            ConnectionRow(
                conn_id="conformance_db",
                conn_type="postgres",
                host="db.example.com",
                login="etl",
                password="s3cret",
                port=5432,
                extra='{"sslmode": "require"}',
            )
        )
        session.add(VariableRow(key="conformance_rows", val="10", description="rows"))
        dataset = session.scalars(
            sa.select(DatasetRow).where(DatasetRow.uri == WORLD_DATASET_URI)
        ).one_or_none()
        if dataset is None:
            dataset = DatasetRow(uri=WORLD_DATASET_URI, extra={})
            session.add(dataset)
            session.flush()
        session.add(DatasetDagRunQueueRow(dataset_id=dataset.id, target_dag_id="conformance"))
        session.add(
            DatasetEventRow(
                dataset_id=dataset.id,
                extra={"from": "seed"},
                source_dag_id="conformance",
                source_task_id="extract",
                source_run_id=run.run_id,
                timestamp=start + timedelta(seconds=1),
            )
        )
        session.flush()
        event_log_id = session.scalars(sa.select(sa.func.min(LogRow.id))).one()
        import_error_id = session.scalars(sa.select(sa.func.min(ImportErrorRow.id))).one()
        run_id = run.run_id
    return World(
        {
            "dag_id": "conformance",
            "dag_run_id": run_id,
            "task_id": "extract",
            "map_index": "-1",
            "task_try_number": "1",
            "xcom_key": "return_value",
            "connection_id": "conformance_db",
            "variable_key": "conformance_rows",
            "pool_name": "default_pool",
            "event_log_id": str(event_log_id),
            "import_error_id": str(import_error_id),
            "uri": WORLD_DATASET_URI,
            "section": "core",
            "option": "parallelism",
            "role_name": "Viewer",
            "username": "viewer",
        }
    )


def _tries(run_id: str, task_id: str, began: datetime) -> Iterator[Any]:
    """A task instance that succeeded on its second try, then its failed first try."""
    common: dict[str, Any] = {
        "dag_id": "conformance",
        "run_id": run_id,
        "task_id": task_id,
        "map_index": -1,
        "max_tries": 1,
        "operator": "EmptyOperator",
        "hostname": "worker-1",
        "unixname": "tradewind",
        "pool": "default_pool",
        "queue": "default",
        "executor": "LocalExecutor",
    }
    yield TaskInstanceRow(
        **common,
        try_number=2,
        state="success",
        start_date=began + timedelta(seconds=1),
        end_date=began + timedelta(seconds=1.5),
        duration=0.5,
        queued_dttm=began,
    )
    yield TaskInstanceHistoryRow(
        **common,
        try_number=1,
        state="failed",
        start_date=began,
        end_date=began + timedelta(seconds=0.5),
        duration=0.5,
    )


def _mapped(run_id: str, began: datetime) -> Iterator[TaskInstanceRow]:
    for map_index in (0, 1):
        yield TaskInstanceRow(
            dag_id="conformance",
            run_id=run_id,
            task_id=MAPPED_VALUES["task_id"],
            map_index=map_index,
            try_number=1,
            max_tries=0,
            state="success",
            operator="EmptyOperator",
            rendered_map_index=f"part {map_index}",
            start_date=began,
            end_date=began + timedelta(seconds=0.25),
            duration=0.25,
        )
