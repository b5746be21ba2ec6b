"""``/dagStats``: counts of DAG runs per state, per DAG."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["DagStats"])
