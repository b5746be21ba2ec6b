"""``/dagSources`` and ``/parseDagFile``: a DAG file's source, and re-parsing it."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["DAG"])
