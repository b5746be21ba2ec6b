"""``/dagWarnings``: problems found in DAGs that still load."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["DagWarning"])
