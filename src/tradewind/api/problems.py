"""Errors become RFC 7807 problem documents here, and only here.

Routes and the code below them raise domain errors (:mod:`tradewind.errors`); the
handlers installed by :func:`install_problem_handlers` turn each into the status code
Airflow's spec names, with a body like::

    {"type": "/api/v1/ui/#section/Errors/NotFound", "title": "Not Found",
     "status": 404, "detail": "Pool with name: 'etl' not found", "instance": "/api/v1/pools/etl"}

A client's mistake (malformed JSON, a wrong type, an unknown field, a bad query
parameter) is a 400 with a detail naming the field; an unexpected exception is a 500
whose body says nothing about the server's internals (the traceback goes to the log).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tradewind.errors import (
    AlreadyExists,
    Conflict,
    DatabaseError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TradewindError,
    Unauthenticated,
)

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

#: Domain error -> (status, the spec's error section name). First match wins.
_STATUS_OF: tuple[tuple[type[TradewindError], HTTPStatus, str], ...] = (
    (InvalidInput, HTTPStatus.BAD_REQUEST, "BadRequest"),
    (NotFound, HTTPStatus.NOT_FOUND, "NotFound"),
    (AlreadyExists, HTTPStatus.CONFLICT, "AlreadyExists"),
    (Conflict, HTTPStatus.CONFLICT, "AlreadyExists"),
    (Unauthenticated, HTTPStatus.UNAUTHORIZED, "Unauthenticated"),
    (PermissionDenied, HTTPStatus.FORBIDDEN, "PermissionDenied"),
    (DatabaseError, HTTPStatus.SERVICE_UNAVAILABLE, "Unknown"),
)
_SECTION_OF_STATUS = {
    400: "BadRequest",
    401: "Unauthenticated",
    403: "PermissionDenied",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "AlreadyExists",
}


def problem_response(
    request: Request,
    status: int,
    detail: str | None,
    *,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An RFC 7807 response for ``status``, its ``instance`` the request's path."""
    code = HTTPStatus(status)
    section = _SECTION_OF_STATUS.get(status, "Unknown")
    body: dict[str, Any] = {
        "type": f"/api/v1/ui/#section/Errors/{section}",
        "title": code.phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def status_of(error: TradewindError) -> int:
    for kind, status, _section in _STATUS_OF:
        if isinstance(error, kind):
            return int(status)
    return int(HTTPStatus.INTERNAL_SERVER_ERROR)


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """pydantic's error list as one sentence a person can act on.

    ``body.slots: Input should be a valid integer`` rather than a nested JSON blob; for
    malformed JSON, where the position is all there is: ``Malformed JSON body: ...``.
    """
    parts = []
    for error in errors:
        location = [str(item) for item in error.get("loc", ()) if item != "body"]
        message = str(error.get("msg", "is invalid"))
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", message)
            parts.append(f"Malformed JSON body: {reason}")
        elif error.get("type") == "extra_forbidden":
            parts.append(f"{'.'.join(location)}: unknown field")
        elif location:
            parts.append(f"{'.'.join(location)}: {message}")
        else:
            parts.append(message)
    return "; ".join(parts) or "The request is invalid"


_UNSTORABLE = (
    "A value in the request cannot be stored or compared by the database "
    "(a number out of range, or a NUL character)"
)


def is_unstorable_value(error: StatementError) -> bool:
    """Whether the database refused a value the client sent (out of range, NUL), as
    opposed to failing on its own: the former is the client's mistake, a 400.

    Every field has its own checks; this is the net for values that reach a column
    or a comparison unchecked, so that they never look like a server fault.
    """
    return isinstance(error, DataError) or isinstance(error.orig, ValueError | OverflowError)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error ``app`` raises an RFC 7807 document."""

    @app.exception_handler(TradewindError)
    async def _domain_error(request: Request, exc: TradewindError) -> JSONResponse:
        status = status_of(exc)
        if status >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc)
        return problem_response(request, status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(request, 400, describe_validation_errors(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No such endpoint: {request.method} {request.url.path}"
        return problem_response(request, exc.status_code, detail, headers=exc.headers)

    @app.exception_handler(OverflowError)
    async def _too_large(request: Request, exc: OverflowError) -> JSONResponse:
        return problem_response(request, 400, _UNSTORABLE)

    @app.exception_handler(StatementError)
    async def _statement_error(request: Request, exc: StatementError) -> JSONResponse:
        if is_unstorable_value(exc):
            return problem_response(request, 400, _UNSTORABLE)
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return problem_response(request, 500, "The server failed to handle this request")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s raised", request.method, request.url.path)
        return problem_response(request, 500, "The server failed to handle this request")
