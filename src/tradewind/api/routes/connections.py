"""``/connections``: connections to external systems, and testing one."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Connection"])
