"""``/config``: the running configuration, when ``[webserver] expose_config`` allows."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Config"])
