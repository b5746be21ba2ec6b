"""``Pool`` and ``PoolCollection``: a pool and its slot usage right now."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from tradewind.api.schemas.base import RequestBody, ResponseBody
from tradewind.storage.repositories.pools import PoolUsage
from tradewind.storage.tables import PoolRow


class Pool(ResponseBody):
    name: str
    slots: int
    occupied_slots: int
    running_slots: int
    queued_slots: int
    scheduled_slots: int
    open_slots: int
    deferred_slots: int
    description: str | None
    include_deferred: bool

    @classmethod
    def from_row(cls, row: PoolRow, usage: PoolUsage) -> Pool:
        occupied = usage.running + usage.queued + (usage.deferred if row.include_deferred else 0)
        # -1 slots means unlimited; Airflow reports open_slots as -1 ("infinite") then.
        open_slots = -1 if row.slots == -1 else max(row.slots - occupied, 0)
        return cls(
            name=row.name,
            slots=row.slots,
            occupied_slots=occupied,
            running_slots=usage.running,
            queued_slots=usage.queued,
            scheduled_slots=usage.scheduled,
            open_slots=open_slots,
            deferred_slots=usage.deferred,
            description=row.description,
            include_deferred=row.include_deferred,
        )


class PoolCollection(ResponseBody):
    pools: list[Pool]
    total_entries: int

    @classmethod
    def from_rows(
        cls, rows: list[PoolRow], usage: Mapping[str, PoolUsage], total_entries: int
    ) -> PoolCollection:
        empty = PoolUsage()
        return cls(
            pools=[Pool.from_row(row, usage.get(row.name, empty)) for row in rows],
            total_entries=total_entries,
        )


class PoolBody(RequestBody):
    """POST /pools and PATCH /pools/{name}: the writable fields of a pool."""

    name: str | None = Field(default=None, min_length=1, max_length=256)
    slots: int | None = None
    description: str | None = None
    include_deferred: bool | None = None
