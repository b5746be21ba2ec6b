"""``.../taskInstances``: list, read and change task instances and their tries."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["TaskInstance"])
