"""Choosing a response's media type from the request's ``Accept`` header.

Airflow picks among the types an endpoint offers with werkzeug's ``best_match``: the
client's highest quality wins, then the most specific of its patterns
(``text/plain`` > ``text/*`` > ``*/*``), then the endpoint's own order. So
``Accept: */*`` gets the endpoint's first type. A request without ``Accept`` accepts
anything (RFC 9110).
"""

from __future__ import annotations

from collections.abc import Sequence


def best_media_type(accept: str | None, offered: Sequence[str]) -> str | None:
    """The type of ``offered`` that ``accept`` prefers, or None when it accepts none.

    Args:
        accept: the ``Accept`` header; None or blank accepts anything.
        offered: the endpoint's types, in its order of preference.
    """
    ranges = _parse(accept) if accept and accept.strip() else [("*/*", 1.0)]
    best: str | None = None
    best_rank = (0.0, -1)
    for media_type in offered:
        for pattern, quality in ranges:
            rank = (quality, _specificity(pattern))
            if quality > 0 and rank > best_rank and _matches(pattern, media_type):
                best, best_rank = media_type, rank
    return best


def _parse(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for item in accept.split(","):
        pattern, *params = (part.strip() for part in item.split(";"))
        if not pattern:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((pattern.lower(), quality))
    return ranges


def _specificity(pattern: str) -> int:
    kind, _, subtype = pattern.partition("/")
    return (kind != "*") + (subtype != "*")


def _matches(pattern: str, media_type: str) -> bool:
    kind, _, subtype = pattern.partition("/")
    offered_kind, _, offered_subtype = media_type.partition("/")
    return kind in ("*", offered_kind) and subtype in ("*", offered_subtype)
