"""Date-time query parameters (``execution_date_gte=...``, ``before=...``), read as Airflow.

Query strings carry date-times as text, often unescaped: the ``+`` of an offset then
arrives as a space, which is turned back into ``+``. A naive date-time means UTC. A
value that is not ISO 8601 is a 400 naming the parameter, in Airflow's words.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tradewind.errors import InvalidInput


def query_datetime(name: str, value: str | None) -> datetime | None:
    """``value`` of the query parameter ``name`` as an aware datetime (None if absent).

    Raises:
        InvalidInput: not an ISO 8601 date-time.
    """
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise InvalidInput(f"Incorrect datetime argument: {name}={value!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
