"""PATCH semantics shared by every resource: the body, narrowed by ``update_mask``.

Airflow's PATCH endpoints take ``?update_mask=slots,description`` (or the parameter
repeated): only those fields change, each read from the body. Without a mask, every
field the body sets changes. A masked field the resource cannot change is a 400, so a
typo never silently does nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel

from tradewind.errors import InvalidInput


async def update_mask_param(
    update_mask: Annotated[list[str] | None, Query()] = None,
) -> list[str] | None:
    """The ``update_mask`` query parameter as field names (comma lists flattened)."""
    if not update_mask:
        return None
    names = [name.strip() for value in update_mask for name in value.split(",")]
    return [name for name in names if name] or None


def masked_changes(
    body: BaseModel, mask: list[str] | None, updatable: Collection[str]
) -> dict[str, Any]:
    """The changes a PATCH asks for: masked fields, or the fields the body sets.

    Raises:
        InvalidInput: a masked field is not in ``updatable``.
    """
    if mask is None:
        return {name: getattr(body, name) for name in body.model_fields_set if name in updatable}
    unknown = [name for name in mask if name not in updatable]
    if unknown:
        raise InvalidInput(
            f"Invalid field(s) in update_mask: {', '.join(unknown)}; "
            f"updatable: {', '.join(sorted(updatable))}"
        )
    return {name: getattr(body, name, None) for name in mask}
