"""The contract itself: ``/openapi.yaml``, ``/openapi.json`` and Swagger UI at ``/ui/``.

The document served is Airflow 2.10's own spec (``api/openapi/v1.yaml``, shipped in the
package), with only its title saying that Tradewind serves it: clients and code
generators written for Airflow read the contract they expect. ``/openapi.yaml`` returns
the file byte for byte; ``/openapi.json`` is the same document as JSON, converted once
per process.

Swagger UI's files come from the ``swagger-ui-bundle`` package (the one Airflow's own
server uses), so the viewer needs neither a Node build nor a CDN. Like Airflow, these
paths are public (see ``PUBLIC_PATHS`` in :mod:`tradewind.api.auth.middleware`): the
contract is no secret, and the viewer sends the user's credentials itself.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from pathlib import Path

import jinja2
import swagger_ui_bundle
import yaml
from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from tradewind.errors import NotFound

router = APIRouter(tags=["Spec"])

#: Route names of this module: public, so the permission-coverage test skips them.
PUBLIC_ROUTE_NAMES = frozenset(
    {
        "get_openapi_yaml",
        "get_openapi_json",
        "get_swagger_ui_redirect",
        "get_swagger_ui",
        "get_swagger_ui_file",
    }
)
#: Swagger UI's page, relative to ``/api/v1/ui/`` so a proxy's path prefix is kept.
_SPEC_URL = "../openapi.yaml"


@router.get("/openapi.yaml", name="get_openapi_yaml")
def get_openapi_yaml() -> Response:
    return Response(_spec_yaml(), media_type="application/yaml")


@router.get("/openapi.json", name="get_openapi_json")
def get_openapi_json() -> Response:
    return Response(_spec_json(), media_type="application/json")


@router.get("/ui", name="get_swagger_ui_redirect", include_in_schema=False)
def get_swagger_ui_redirect() -> RedirectResponse:
    # Relative, like the spec URL: "ui/" from "/api/v1/ui" is "/api/v1/ui/".
    return RedirectResponse("ui/", status_code=308)


@router.get("/ui/", name="get_swagger_ui")
def get_swagger_ui() -> HTMLResponse:
    return HTMLResponse(_index_html())


@router.get("/ui/{file_name}", name="get_swagger_ui_file")
def get_swagger_ui_file(file_name: str) -> FileResponse:
    # Only the bundle's own files: the name is looked up, never joined into a path.
    path = _ui_files().get(file_name)
    if path is None:
        raise NotFound(f"No such file: {file_name!r}")
    return FileResponse(path)


@cache
def _spec_yaml() -> bytes:
    return files("tradewind.api").joinpath("openapi").joinpath("v1.yaml").read_bytes()


@cache
def _spec_json() -> bytes:
    document = yaml.safe_load(_spec_yaml())
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


@cache
def _ui_files() -> dict[str, Path]:
    folder = Path(swagger_ui_bundle.swagger_ui_path)
    return {path.name: path for path in folder.iterdir() if path.is_file()}


@cache
def _index_html() -> str:
    template = _ui_files()["index.j2"].read_text(encoding="utf-8")
    environment = jinja2.Environment(autoescape=True)
    return environment.from_string(template).render(openapi_spec_url=_SPEC_URL)
