"""``/roles`` and ``/permissions``: named permission sets, and the actions they use."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from tradewind.api.deps import DbDep, PageDep, requires
from tradewind.api.model_response import model_response
from tradewind.api.schemas.role import (
    Action,
    ActionCollection,
    Role,
    RoleBody,
    RoleCollection,
)
from tradewind.api.update_mask import masked_changes, update_mask_param
from tradewind.errors import InvalidInput
from tradewind.security import roles
from tradewind.security.permissions import CREATE, DELETE, EDIT, PERMISSION, READ, ROLE

router = APIRouter(tags=["Role"])


@router.get(
    "/roles", name="get_roles", dependencies=[requires(READ, ROLE)], response_model=RoleCollection
)
def get_roles(db: DbDep, page: PageDep) -> Response:
    with db.read() as session:
        found = roles.list_roles(
            session, limit=page.limit, offset=page.offset, order_by=page.order_by
        )
        return model_response(RoleCollection.from_rows(found.items, found.total_entries))


@router.get("/roles/{role_name}", name="get_role", dependencies=[requires(READ, ROLE)])
def get_role(role_name: str, db: DbDep) -> Role:
    with db.read() as session:
        return Role.from_row(roles.require_role(session, role_name))


@router.post("/roles", name="post_role", dependencies=[requires(CREATE, ROLE)])
def post_role(body: RoleBody, db: DbDep) -> Role:
    if body.name is None:
        raise InvalidInput("Missing required property(ies): ['name']")
    with db.write(role=body.name) as session:
        return Role.from_row(roles.create_role(session, body.name, body.permissions() or []))


@router.patch("/roles/{role_name}", name="patch_role", dependencies=[requires(EDIT, ROLE)])
def patch_role(
    role_name: str,
    body: RoleBody,
    db: DbDep,
    update_mask: Annotated[list[str] | None, Depends(update_mask_param)],
) -> Role:
    changes = masked_changes(body, update_mask, roles.UPDATABLE)
    if "actions" in changes:
        changes["actions"] = body.permissions()
    with db.write(role=role_name, changes=sorted(changes)) as session:
        return Role.from_row(roles.update_role(session, role_name, changes))


@router.delete(
    "/roles/{role_name}",
    name="delete_role",
    status_code=204,
    dependencies=[requires(DELETE, ROLE)],
)
def delete_role(role_name: str, db: DbDep) -> Response:
    with db.write(role=role_name) as session:
        roles.delete_role(session, role_name)
    return Response(status_code=204)


@router.get(
    "/permissions",
    name="get_permissions",
    tags=["Permission"],
    dependencies=[requires(READ, PERMISSION)],
    response_model=ActionCollection,
)
def get_permissions(db: DbDep, page: PageDep) -> Response:
    with db.read() as session:
        names = roles.list_actions(session)
    shown = names[page.offset : page.offset + page.limit]
    return model_response(
        ActionCollection(actions=[Action(name=n) for n in shown], total_entries=len(names))
    )
