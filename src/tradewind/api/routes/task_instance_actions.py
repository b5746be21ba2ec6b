"""``clearTaskInstances`` and ``updateTaskInstancesState``: acting on many task instances."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["DAG"])
