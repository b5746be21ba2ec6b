"""``/datasets``: datasets, their events, and queued events of dataset-scheduled DAGs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Dataset"])
