"""``order_by`` as the spec names fields, translated to the columns repositories sort by.

Airflow's ``order_by`` uses the API's field names (``connection_id``, ``-when``); our
repositories sort by column names (``conn_id``, ``dttm``). Names without a translation
pass through unchanged, so the repository's own check still refuses (400) a name that
is neither.
"""

from __future__ import annotations

from collections.abc import Mapping


def column_order(order_by: str | None, columns: Mapping[str, str]) -> str | None:
    """``order_by`` (``-connection_id``) with its field renamed by ``columns`` (``-conn_id``).

    Args:
        order_by: the query parameter; None or empty: the repository's default order.
        columns: API field name -> column name, for the fields whose names differ.
    """
    if not order_by:
        return None
    name = order_by.removeprefix("-")
    column = columns.get(name, name)
    return f"-{column}" if order_by.startswith("-") else column
