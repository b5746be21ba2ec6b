"""``best_media_type``: werkzeug's ``best_match`` rules, which Airflow's endpoints use."""

from __future__ import annotations

import pytest

from tradewind.api.negotiation import best_media_type

OFFERED = ("text/plain", "application/json")


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "text/plain"),
        ("", "text/plain"),
        ("*/*", "text/plain"),
        ("application/json", "application/json"),
        ("text/plain;q=0.5, application/json", "application/json"),
        ("application/*, */*;q=0.1", "application/json"),
        ("*/*, application/json", "application/json"),
        ("text/*;q=0.9, */*;q=0.8", "text/plain"),
        ("application/json;q=0", None),
        ("application/xml", None),
        ("Application/JSON; charset=utf-8", "application/json"),
    ],
)
def test_best_media_type(accept: str | None, chosen: str | None) -> None:
    assert best_media_type(accept, OFFERED) == chosen
