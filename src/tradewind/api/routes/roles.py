"""``/roles`` and ``/permissions``: named permission sets."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Role"])
