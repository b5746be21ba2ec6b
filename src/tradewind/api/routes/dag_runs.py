"""``/dags/{dag_id}/dagRuns``: trigger, list, read, change, clear and delete runs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["DAGRun"])
