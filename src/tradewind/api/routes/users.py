"""``/users``: people and service accounts (Airflow's FAB user endpoints).

Passwords are accepted by POST and PATCH, stored as argon2id hashes, and never
returned or written to the audit log (which records which fields changed, not values).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from tradewind.api.deps import DbDep, PageDep, requires
from tradewind.api.model_response import model_response
from tradewind.api.schemas.user import UserBody, UserCollection, UserCollectionItem
from tradewind.api.update_mask import masked_changes, update_mask_param
from tradewind.errors import InvalidInput
from tradewind.security import users
from tradewind.security.permissions import CREATE, DELETE, EDIT, READ, USER

router = APIRouter(tags=["User"])

#: The role of a user created with no roles: FAB's default registration role.
DEFAULT_ROLE = "Public"
_REQUIRED = ("username", "email", "first_name", "last_name", "password")


@router.get(
    "/users", name="get_users", dependencies=[requires(READ, USER)], response_model=UserCollection
)
def get_users(db: DbDep, page: PageDep) -> Response:
    with db.read() as session:
        found = users.list_users(
            session, limit=page.limit, offset=page.offset, order_by=page.order_by
        )
        return model_response(UserCollection.from_rows(list(found.items), found.total_entries))


@router.get("/users/{username}", name="get_user", dependencies=[requires(READ, USER)])
def get_user(username: str, db: DbDep) -> UserCollectionItem:
    with db.read() as session:
        return UserCollectionItem.from_row(users.require_user(session, username))


@router.post("/users", name="post_user", dependencies=[requires(CREATE, USER)])
def post_user(body: UserBody, db: DbDep) -> UserCollectionItem:
    missing = [name for name in _REQUIRED if getattr(body, name) is None]
    if missing:
        raise InvalidInput(f"Missing required property(ies): {missing}")
    assert body.username and body.email and body.password  # narrowed by the check above
    with db.write(username=body.username) as session:
        roles = users.require_roles(session, body.role_names() or [DEFAULT_ROLE])
        row = users.create_user(
            session,
            body.username,
            body.password,
            email=body.email,
            first_name=body.first_name or "",
            last_name=body.last_name or "",
            roles=[role.name for role in roles],
        )
        return UserCollectionItem.from_row(row)


@router.patch("/users/{username}", name="patch_user", dependencies=[requires(EDIT, USER)])
def patch_user(
    username: str,
    body: UserBody,
    db: DbDep,
    update_mask: Annotated[list[str] | None, Depends(update_mask_param)],
) -> UserCollectionItem:
    changes = masked_changes(body, update_mask, users.UPDATABLE)
    if "roles" in changes:
        changes["roles"] = body.role_names()
    with db.write(username=username, changes=sorted(changes)) as session:
        return UserCollectionItem.from_row(users.update_user(session, username, changes))


@router.delete(
    "/users/{username}",
    name="delete_user",
    status_code=204,
    dependencies=[requires(DELETE, USER)],
)
def delete_user(username: str, db: DbDep) -> Response:
    with db.write(username=username) as session:
        users.delete_user(session, username)
    return Response(status_code=204)
