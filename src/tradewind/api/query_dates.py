"""Date-time query parameters (``execution_date_gte=...``, ``before=...``), read as Airflow.

:func:`run_dates_from_query` reads the eight date bounds shared by the lists of runs
and of task instances (:class:`~tradewind.storage.repositories.dag_runs.RunDates`).

Query strings carry date-times as text, often unescaped: the ``+`` of an offset then
arrives as a space, which is turned back into ``+``. A naive date-time means UTC. A
value that is not ISO 8601 is a 400 naming the parameter, in Airflow's words.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tradewind.errors import InvalidInput
from tradewind.storage.repositories.dag_runs import RunDates

__all__ = ["RunDates", "query_datetime", "run_dates_from_query"]


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


async def run_dates_from_query(
    execution_date_gte: str | None = None,
    execution_date_lte: str | None = None,
    start_date_gte: str | None = None,
    start_date_lte: str | None = None,
    end_date_gte: str | None = None,
    end_date_lte: str | None = None,
    updated_at_gte: str | None = None,
    updated_at_lte: str | None = None,
) -> RunDates:
    """The date filters of a list's query string (a FastAPI dependency).

    ``async`` although it never awaits: FastAPI runs a plain ``def`` dependency in a
    worker thread, a hop that cost more than parsing eight dates (see ``api/deps.py``).
    """
    return RunDates(
        logical_date_gte=query_datetime("execution_date_gte", execution_date_gte),
        logical_date_lte=query_datetime("execution_date_lte", execution_date_lte),
        start_date_gte=query_datetime("start_date_gte", start_date_gte),
        start_date_lte=query_datetime("start_date_lte", start_date_lte),
        end_date_gte=query_datetime("end_date_gte", end_date_gte),
        end_date_lte=query_datetime("end_date_lte", end_date_lte),
        updated_at_gte=query_datetime("updated_at_gte", updated_at_gte),
        updated_at_lte=query_datetime("updated_at_lte", updated_at_lte),
    )
