"""``.../logs/{task_try_number}``: the log of one try, as JSON pages or plain text."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["TaskInstance"])
