"""``/pools``: list, read, create, update and delete slot pools."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from tradewind.api.deps import DbDep, PageDep, requires
from tradewind.api.model_response import model_response
from tradewind.api.schemas.pool import Pool, PoolBody, PoolCollection
from tradewind.api.update_mask import masked_changes, update_mask_param
from tradewind.errors import InvalidInput
from tradewind.security.permissions import CREATE, DELETE, EDIT, POOL, READ
from tradewind.storage.repositories import pools

router = APIRouter(tags=["Pool"])


@router.get(
    "/pools", name="get_pools", dependencies=[requires(READ, POOL)], response_model=PoolCollection
)
def get_pools(db: DbDep, page: PageDep) -> Response:
    with db.read() as session:
        found = pools.list_pools(
            session, limit=page.limit, offset=page.offset, order_by=page.order_by
        )
        usage = pools.pool_usage(session, [row.name for row in found.items])
        return model_response(
            PoolCollection.from_rows(list(found.items), usage, found.total_entries)
        )


@router.get("/pools/{pool_name}", name="get_pool", dependencies=[requires(READ, POOL)])
def get_pool(pool_name: str, db: DbDep) -> Pool:
    with db.read() as session:
        return _pool(session, pool_name)


@router.post("/pools", name="post_pool", dependencies=[requires(CREATE, POOL)])
def post_pool(body: PoolBody, db: DbDep) -> Pool:
    if body.name is None or body.slots is None:
        missing = [name for name in ("name", "slots") if getattr(body, name) is None]
        raise InvalidInput(f"Missing required property(ies): {missing}")
    with db.write(pool=body.name) as session:
        row = pools.create_pool(
            session,
            body.name,
            body.slots,
            description=body.description,
            include_deferred=bool(body.include_deferred),
        )
        return Pool.from_row(row, pools.PoolUsage())


@router.patch("/pools/{pool_name}", name="patch_pool", dependencies=[requires(EDIT, POOL)])
def patch_pool(
    pool_name: str,
    body: PoolBody,
    db: DbDep,
    update_mask: Annotated[list[str] | None, Depends(update_mask_param)],
) -> Pool:
    changes = masked_changes(body, update_mask, pools.UPDATABLE)
    if any(changes.get(name, 0) is None for name in ("name", "slots", "include_deferred")):
        raise InvalidInput("name, slots and include_deferred cannot be null")
    with db.write(pool=pool_name, changes=sorted(changes)) as session:
        row = pools.update_pool(session, pool_name, changes)
        return _pool(session, row.name)


@router.delete(
    "/pools/{pool_name}",
    name="delete_pool",
    status_code=204,
    dependencies=[requires(DELETE, POOL)],
)
def delete_pool(pool_name: str, db: DbDep) -> Response:
    with db.write(pool=pool_name) as session:
        pools.delete_pool(session, pool_name)
    return Response(status_code=204)


def _pool(session: Session, name: str) -> Pool:
    row = pools.require_pool(session, name)
    return Pool.from_row(row, pools.pool_usage(session, [name]).get(name, pools.PoolUsage()))
