"""``/dags``: list, read, pause/unpause and delete DAGs; their details and tasks."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["DAG"])
