"""``/variables``: key/value settings tasks read, encrypted at rest."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Variable"])
