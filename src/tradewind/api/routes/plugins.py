"""``/plugins``: loaded plugins."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Plugin"])
