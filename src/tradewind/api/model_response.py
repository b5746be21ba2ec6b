"""Answering with a response model serialized once, straight to JSON bytes.

Left to FastAPI, a returned model is either validated against the route's response
model and then serialized (a worker-thread hop for the validation of a sync route), or,
without one, walked field by field by ``jsonable_encoder``, which cost a list of 100
DAGs more than its SQL. :func:`model_response` serializes with pydantic's Rust core, as
FastAPI's own fast path does, and hands FastAPI a finished :class:`Response`, which it
passes through untouched. Routes keep ``response_model`` (or their return annotation)
for the document only; the body is the same JSON (field aliases applied, nothing left out).
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel

JSON = "application/json"


def model_response(model: BaseModel, *, status_code: int = 200) -> Response:
    """``model`` as a JSON response."""
    return Response(model.model_dump_json(by_alias=True), status_code=status_code, media_type=JSON)
