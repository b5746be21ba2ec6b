"""``/roles`` and ``/permissions`` through real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import httpx


def pair(action: str, resource: str) -> dict[str, dict[str, str]]:
    return {"action": {"name": action}, "resource": {"name": resource}}


def test_role_round_trip(client: httpx.Client, client_as: Callable[[str], httpx.Client]) -> None:
    created = client.post(
        "/roles",
        json={"name": "Pooler", "actions": [pair("can_read", "Pools"), pair("can_edit", "Pools")]},
    )
    assert created.status_code == 200, created.text
    assert created.json() == {
        "name": "Pooler",
        "actions": [pair("can_edit", "Pools"), pair("can_read", "Pools")],
    }
    assert client.get("/roles/Pooler").json() == created.json()

    # Granting the role to a user takes effect on their next request.
    viewer = client_as("viewer")
    assert viewer.get("/pools").status_code == 403
    grant = client.patch(
        "/users/viewer",
        params={"update_mask": "roles"},
        json={"roles": [{"name": "Viewer"}, {"name": "Pooler"}]},
    )
    assert grant.status_code == 200
    assert viewer.get("/pools").status_code == 200

    replaced = client.patch(
        "/roles/Pooler",
        params={"update_mask": "actions"},
        json={"name": "ignored", "actions": [pair("can_read", "DAG:etl")]},
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == {"name": "Pooler", "actions": [pair("can_read", "DAG:etl")]}
    assert viewer.get("/pools").status_code == 403

    renamed = client.patch("/roles/Pooler", json={"name": "Reader"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Reader"
    assert client.get("/roles/Pooler").status_code == 404

    assert client.delete("/roles/Reader").status_code == 204
    missing = client.get("/roles/Reader")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Role with name 'Reader' was not found"
    assert client.get("/users/viewer").json()["roles"] == [{"name": "Viewer"}]


def test_roles_list_pages_and_orders(client: httpx.Client) -> None:
    listed = client.get("/roles").json()
    assert listed["total_entries"] == 5
    assert [role["name"] for role in listed["roles"]] == ["Admin", "Op", "Public", "User", "Viewer"]
    viewer = next(role for role in listed["roles"] if role["name"] == "Viewer")
    assert pair("can_read", "DAGs") in viewer["actions"]

    page = client.get("/roles", params={"order_by": "-name", "limit": 2, "offset": 1}).json()
    assert [role["name"] for role in page["roles"]] == ["User", "Public"]
    by_id = client.get("/roles", params={"order_by": "role_id"})
    assert by_id.status_code == 200 and by_id.json()["total_entries"] == 5

    bad = client.get("/roles", params={"order_by": "colour"})
    assert bad.status_code == 400 and "colour" in bad.json()["detail"]


def test_permissions_lists_the_actions(client: httpx.Client) -> None:
    found = client.get("/permissions").json()
    names = [action["name"] for action in found["actions"]]
    assert names[:5] == ["can_read", "can_edit", "can_create", "can_delete", "menu_access"]
    assert found["total_entries"] == len(names)
    page = client.get("/permissions", params={"limit": 2, "offset": 1}).json()
    assert page["actions"] == [{"name": "can_edit"}, {"name": "can_create"}]
    assert page["total_entries"] == found["total_entries"]


def test_bad_role_input_is_a_400(client: httpx.Client) -> None:
    unknown_action = client.post("/roles", json={"name": "X", "actions": [pair("can_fly", "DAGs")]})
    assert unknown_action.status_code == 400
    assert unknown_action.json()["detail"] == "The specified action: 'can_fly' was not found"
    unknown_resource = client.post(
        "/roles", json={"name": "X", "actions": [pair("can_read", "Dragons")]}
    )
    assert unknown_resource.status_code == 400
    assert unknown_resource.json()["detail"] == "The specified resource: 'Dragons' was not found"
    assert client.get("/roles/X").status_code == 404

    no_name = client.post("/roles", json={"actions": []})
    assert no_name.status_code == 400 and "name" in no_name.json()["detail"]
    malformed = client.post("/roles", json={"name": "X", "actions": [{"action": "can_read"}]})
    assert malformed.status_code == 400

    assert client.post("/roles", json={"name": "X"}).status_code == 200
    bad_mask = client.patch("/roles/X", params={"update_mask": "permissions"}, json={})
    assert bad_mask.status_code == 400 and "permissions" in bad_mask.json()["detail"]
    bad_pair = client.patch("/roles/X", json={"actions": [pair("can_read", "Nowhere")]})
    assert bad_pair.status_code == 400
    blank = client.patch("/roles/X", json={"name": ""})
    assert blank.status_code == 400


def test_duplicate_roles_are_409(client: httpx.Client) -> None:
    duplicate = client.post("/roles", json={"name": "Viewer", "actions": []})
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.json()["detail"]
    assert client.post("/roles", json={"name": "X"}).status_code == 200
    rename = client.patch("/roles/X", json={"name": "Op"})
    assert rename.status_code == 409


def test_missing_roles_are_404(client: httpx.Client) -> None:
    assert client.patch("/roles/Nope", json={"name": "Yes"}).status_code == 404
    assert client.delete("/roles/Nope").status_code == 404


def test_only_admins_manage_roles(client_as: Callable[[str], httpx.Client]) -> None:
    op = client_as("op")
    assert op.get("/roles").status_code == 403
    assert op.get("/roles/Op").status_code == 403
    assert op.post("/roles", json={"name": "Mine"}).status_code == 403
    assert op.patch("/roles/Op", json={"actions": []}).status_code == 403
    assert op.delete("/roles/Admin").status_code == 403
    assert op.get("/permissions").status_code == 403
