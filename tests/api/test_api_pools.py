"""``/pools`` through real HTTP: the CRUD round trip, usage counts, and bad input."""

from __future__ import annotations

from collections.abc import Callable

import httpx


def test_pool_round_trip(client: httpx.Client) -> None:
    created = client.post("/pools", json={"name": "etl", "slots": 4, "description": "nightly"})
    assert created.status_code == 200, created.text
    assert created.json() == {
        "name": "etl",
        "slots": 4,
        "occupied_slots": 0,
        "running_slots": 0,
        "queued_slots": 0,
        "scheduled_slots": 0,
        "open_slots": 4,
        "deferred_slots": 0,
        "description": "nightly",
        "include_deferred": False,
    }

    listed = client.get("/pools").json()
    assert listed["total_entries"] == 2
    assert [pool["name"] for pool in listed["pools"]] == ["default_pool", "etl"]

    patched = client.patch("/pools/etl", params={"update_mask": "slots"}, json={"slots": 8})
    assert patched.status_code == 200 and patched.json()["slots"] == 8
    assert client.get("/pools/etl").json()["description"] == "nightly"

    assert client.delete("/pools/etl").status_code == 204
    missing = client.get("/pools/etl")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json() == {
        "type": "/api/v1/ui/#section/Errors/NotFound",
        "title": "Not Found",
        "status": 404,
        "detail": "Pool with name: 'etl' not found",
        "instance": "/api/v1/pools/etl",
    }


def test_pools_page_and_order(client: httpx.Client) -> None:
    for name, slots in (("a", 3), ("b", 1), ("c", 2)):
        assert client.post("/pools", json={"name": name, "slots": slots}).status_code == 200

    page = client.get("/pools", params={"order_by": "-slots", "limit": 2, "offset": 1}).json()
    assert page["total_entries"] == 4
    assert [pool["name"] for pool in page["pools"]] == ["a", "c"]

    bad = client.get("/pools", params={"order_by": "nope"})
    assert bad.status_code == 400 and "nope" in bad.json()["detail"]


def test_bad_pool_input_is_a_400_and_changes_nothing(client: httpx.Client) -> None:
    malformed = client.post(
        "/pools", content=b'{"name": "x", ', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400 and "Malformed JSON" in malformed.json()["detail"]

    wrong_type = client.post("/pools", json={"name": "x", "slots": "many"})
    assert wrong_type.status_code == 400 and "slots" in wrong_type.json()["detail"]

    unknown = client.post("/pools", json={"name": "x", "slots": 1, "colour": "red"})
    assert unknown.status_code == 400 and "colour: unknown field" in unknown.json()["detail"]

    missing = client.post("/pools", json={"name": "x"})
    assert missing.status_code == 400 and "slots" in missing.json()["detail"]

    assert client.post("/pools", json={"name": "x", "slots": 1}).status_code == 200
    duplicate = client.post("/pools", json={"name": "x", "slots": 1})
    assert duplicate.status_code == 409

    bad_mask = client.patch("/pools/x", params={"update_mask": "colour"}, json={"slots": 2})
    assert bad_mask.status_code == 400 and "colour" in bad_mask.json()["detail"]

    default = client.delete("/pools/default_pool")
    assert default.status_code == 400
    assert client.get("/pools").json()["total_entries"] == 2


def test_pool_permissions(client_as: Callable[[str], httpx.Client]) -> None:
    viewer = client_as("viewer")
    assert viewer.get("/pools").status_code == 403
    op = client_as("op")
    assert op.get("/pools").status_code == 200
    assert op.post("/pools", json={"name": "ops", "slots": 1}).status_code == 200
    assert client_as("user").delete("/pools/ops").status_code == 403
