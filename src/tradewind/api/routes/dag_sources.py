"""``/dagSources`` and ``/parseDagFile``: a DAG file's source, and re-parsing it.

Both take a ``file_token`` (:mod:`tradewind.api.file_tokens`), never a path, and read only
the database: the source is the text the DAG processor stored in ``dag_code``, and a
re-parse is a request row the processor acts on. A user must hold the permission on
every DAG the file defines, as in Airflow.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from tradewind.api.deps import DbDep, PrincipalDep, SettingsDep, check_dag, requires
from tradewind.api.file_tokens import FileTokens
from tradewind.api.negotiation import best_media_type
from tradewind.api.problems import problem_response
from tradewind.errors import NotFound
from tradewind.security.permissions import DAG, DAG_CODE, EDIT, READ
from tradewind.storage.repositories import dag_parsing_requests
from tradewind.storage.repositories import dags as dag_repo

router = APIRouter(tags=["DAG"])

#: What ``get_dag_source`` can send, in Airflow's order of preference (``*/*``: text).
SOURCE_MEDIA_TYPES = ("text/plain", "application/json")


@router.get(
    "/dagSources/{file_token}",
    name="get_dag_source",
    dependencies=[requires(READ, DAG_CODE)],
    response_model=None,
)
def get_dag_source(
    file_token: str, request: Request, db: DbDep, principal: PrincipalDep, settings: SettingsDep
) -> Response:
    fileloc = FileTokens(settings).fileloc_of(file_token, missing="Dag source not found")
    with db.read() as session:
        for dag_id in dag_repo.dag_ids_of_file(session, fileloc):
            check_dag(principal, READ, dag_id)
        source = dag_repo.get_source_code(session, fileloc)
    if source is None:
        raise NotFound("Dag source not found")
    media_type = best_media_type(request.headers.get("accept"), SOURCE_MEDIA_TYPES)
    if media_type == "text/plain":
        return PlainTextResponse(source)
    if media_type == "application/json":
        return JSONResponse({"content": source})
    return problem_response(request, 406, "Not Allowed Accept Header")


@router.put(
    "/parseDagFile/{file_token}",
    name="reparse_dag_file",
    status_code=201,
    dependencies=[requires(EDIT, DAG)],
)
def reparse_dag_file(
    file_token: str, db: DbDep, principal: PrincipalDep, settings: SettingsDep
) -> Response:
    fileloc = FileTokens(settings).fileloc_of(file_token)
    with db.write(fileloc=fileloc) as session:
        dag_ids = dag_repo.dag_ids_of_file(session, fileloc)
        if not dag_ids:
            raise NotFound("File not found")
        for dag_id in dag_ids:
            check_dag(principal, EDIT, dag_id)
        dag_parsing_requests.request_parsing(session, fileloc)
    return Response(status_code=201)
