"""``/users`` through real HTTP: create, read, list, update, delete, and what is refused."""

from __future__ import annotations

from collections.abc import Callable

import airflow_client.client as airflow_client
import httpx
from airflow_client.client.api.permission_api import PermissionApi
from airflow_client.client.api.role_api import RoleApi
from airflow_client.client.api.user_api import UserApi
from airflow_client.client.model.user import User
from airflow_client.client.model.user_collection_item_roles import UserCollectionItemRoles
from api_support import PASSWORD, LiveServer
from sqlalchemy.orm import Session, sessionmaker

from tradewind.security.passwords import verify_password
from tradewind.security.users import get_user
from tradewind.storage.engine import transaction
from tradewind.storage.tables import LogRow

NEW_USER = {
    "username": "ada",
    "email": "ada@example.com",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "password": "analytical engine",
    "roles": [{"name": "Viewer"}, {"name": "Op"}],
}


def test_user_round_trip(client: httpx.Client, api_server: LiveServer) -> None:
    created = client.post("/users", json=NEW_USER)
    assert created.status_code == 200, created.text
    body = created.json()
    assert "password" not in body
    assert {key: body[key] for key in ("username", "email", "first_name", "last_name")} == {
        "username": "ada",
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
    }
    assert body["roles"] == [{"name": "Op"}, {"name": "Viewer"}]
    assert body["active"] is True
    assert (body["login_count"], body["failed_login_count"], body["last_login"]) == (0, 0, None)
    assert body["created_on"] and body["changed_on"]

    with httpx.Client(base_url=api_server.url, auth=("ada", "analytical engine")) as ada:
        assert ada.get("/pools").status_code == 200  # Op may read pools

    fetched = client.get("/users/ada").json()
    assert fetched["login_count"] == 1 and fetched["last_login"] is not None
    assert "password" not in fetched

    patched = client.patch(
        "/users/ada",
        params={"update_mask": "first_name,roles"},
        json={"first_name": "Augusta", "last_name": "ignored", "roles": [{"name": "Viewer"}]},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["first_name"] == "Augusta"
    assert patched.json()["last_name"] == "Lovelace"
    assert patched.json()["roles"] == [{"name": "Viewer"}]

    assert client.delete("/users/ada").status_code == 204
    missing = client.get("/users/ada")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "The User with username `ada` was not found"


def test_users_list_pages_and_orders(client: httpx.Client) -> None:
    listed = client.get("/users").json()
    assert listed["total_entries"] == 5
    assert [user["username"] for user in listed["users"]] == [
        "admin",
        "op",
        "user",
        "viewer",
        "public",
    ]
    page = client.get("/users", params={"order_by": "-username", "limit": 2, "offset": 1})
    assert [user["username"] for user in page.json()["users"]] == ["user", "public"]
    assert page.json()["total_entries"] == 5
    by_alias = client.get("/users", params={"order_by": "user_name", "limit": 1}).json()
    assert by_alias["users"][0]["username"] == "admin"

    bad = client.get("/users", params={"order_by": "password_hash"})
    assert bad.status_code == 400 and "password_hash" in bad.json()["detail"]


def test_password_change_rename_and_secrets_stay_out_of_the_audit_log(
    client: httpx.Client, session_factory: sessionmaker[Session]
) -> None:
    assert client.post("/users", json=NEW_USER).status_code == 200
    changed = client.patch(
        "/users/ada",
        params={"update_mask": "password,username"},
        json={"password": "difference engine", "username": "augusta"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["username"] == "augusta"
    assert client.get("/users/ada").status_code == 404

    with transaction(session_factory) as session:
        user = get_user(session, "augusta")
        assert user is not None and user.password_hash is not None
        assert verify_password("difference engine", user.password_hash)
        audit = [(row.event, row.extra or "") for row in session.query(LogRow)]
    assert {event for event, _ in audit} >= {"api.post_user", "api.patch_user"}
    assert not any("engine" in extra for _, extra in audit)


def test_a_user_with_no_roles_gets_public(client: httpx.Client) -> None:
    body = {key: value for key, value in NEW_USER.items() if key != "roles"}
    created = client.post("/users", json=body)
    assert created.status_code == 200, created.text
    assert created.json()["roles"] == [{"name": "Public"}]


def test_bad_user_input_is_a_400(client: httpx.Client) -> None:
    missing = client.post("/users", json={"username": "x", "email": "x@example.com"})
    assert missing.status_code == 400
    assert "password" in missing.json()["detail"] and "first_name" in missing.json()["detail"]

    unknown_role = client.post("/users", json={**NEW_USER, "roles": [{"name": "Wizard"}]})
    assert unknown_role.status_code == 400
    assert unknown_role.json()["detail"] == "Unknown roles: 'Wizard'"

    read_only = client.post("/users", json={**NEW_USER, "active": False})
    assert read_only.status_code == 400 and "active" in read_only.json()["detail"]

    empty_password = client.post("/users", json={**NEW_USER, "password": ""})
    assert empty_password.status_code == 400

    assert client.post("/users", json=NEW_USER).status_code == 200
    bad_mask = client.patch("/users/ada", params={"update_mask": "active"}, json={})
    assert bad_mask.status_code == 400 and "active" in bad_mask.json()["detail"]
    null_email = client.patch("/users/ada", json={"email": None})
    assert null_email.status_code == 400
    bad_role = client.patch("/users/ada", json={"roles": [{"name": "Nope"}]})
    assert bad_role.status_code == 400 and "'Nope'" in bad_role.json()["detail"]
    assert client.get("/users/ada").json()["roles"] == [{"name": "Op"}, {"name": "Viewer"}]


def test_duplicates_are_409(client: httpx.Client) -> None:
    assert client.post("/users", json=NEW_USER).status_code == 200
    same_name = client.post("/users", json={**NEW_USER, "email": "other@example.com"})
    assert same_name.status_code == 409 and "ada" in same_name.json()["detail"]
    same_email = client.post("/users", json={**NEW_USER, "username": "other"})
    assert same_email.status_code == 409 and "ada@example.com" in same_email.json()["detail"]

    taken_name = client.patch("/users/ada", json={"username": "admin"})
    assert taken_name.status_code == 409
    taken_email = client.patch("/users/ada", json={"email": "op@example.com"})
    assert taken_email.status_code == 409


def test_missing_users_are_404(client: httpx.Client) -> None:
    assert client.patch("/users/nobody", json={"first_name": "x"}).status_code == 404
    assert client.delete("/users/nobody").status_code == 404


def test_only_admins_manage_users(client_as: Callable[[str], httpx.Client]) -> None:
    op = client_as("op")
    assert op.get("/users").status_code == 403
    assert op.get("/users/op").status_code == 403
    assert op.post("/users", json=NEW_USER).status_code == 403
    assert op.patch("/users/op", json={"roles": [{"name": "Admin"}]}).status_code == 403
    assert op.delete("/users/admin").status_code == 403


def test_the_official_client_manages_users_and_roles(api_server: LiveServer) -> None:
    configuration = airflow_client.Configuration(
        host=api_server.url, username="admin", password=PASSWORD
    )
    with airflow_client.ApiClient(configuration) as api:
        created = UserApi(api).post_user(
            User(
                username="ada",
                email="ada@example.com",
                first_name="Ada",
                last_name="Lovelace",
                password="analytical engine",
                roles=[UserCollectionItemRoles(name="Viewer")],
            )
        )
        listed = UserApi(api).get_users(order_by="-username")
        fetched = UserApi(api).get_user("ada")
        role = RoleApi(api).get_role("Viewer")
        roles = RoleApi(api).get_roles()
        actions = PermissionApi(api).get_permissions()
    assert created.username == "ada" and created.roles[0].name == "Viewer"
    assert [user.username for user in listed.users][:2] == ["viewer", "user"]
    assert fetched.email == "ada@example.com" and fetched.active is True
    assert ("can_read", "DAGs") in {(a.action.name, a.resource.name) for a in role.actions}
    assert roles.total_entries == 5
    assert "can_read" in {action.name for action in actions.actions}
