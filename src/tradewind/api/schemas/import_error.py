"""``ImportError`` and ``ImportErrorCollection``: DAG files that failed to import.

A user who may read only some DAGs sees the errors of files defining one of them; when
such a file also defines DAGs they may not read, its stack trace is withheld (it could
show those DAGs' code), as in Airflow 2.10.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from tradewind.api.schemas.base import ResponseBody
from tradewind.storage.pagination import Page
from tradewind.storage.tables import ImportErrorRow

#: API field name -> ``ImportErrorRow`` column, where they differ (``order_by``).
COLUMNS = {"import_error_id": "id"}

REDACTED = "REDACTED - you do not have read permission on all DAGs in the file"


class ImportError(ResponseBody):  # the spec's name; shadows the builtin in this module only
    import_error_id: int
    timestamp: datetime
    filename: str
    stack_trace: str

    @classmethod
    def from_row(cls, row: ImportErrorRow, *, redacted: bool = False) -> ImportError:
        return cls(
            import_error_id=row.id,
            timestamp=row.timestamp,
            filename=row.filename,
            stack_trace=REDACTED if redacted else row.stacktrace,
        )


class ImportErrorCollection(ResponseBody):
    import_errors: list[ImportError]
    total_entries: int

    @classmethod
    def from_page(
        cls,
        page: Page[ImportErrorRow],
        *,
        readable: Collection[str] | None,
        dags_of_file: Mapping[str, set[str]],
    ) -> ImportErrorCollection:
        """``readable``: the DAG ids the user may read, None for all of them."""
        return cls(
            import_errors=[
                ImportError.from_row(row, redacted=hides_trace(row, readable, dags_of_file))
                for row in page.items
            ],
            total_entries=page.total_entries,
        )


def hides_trace(
    row: ImportErrorRow, readable: Collection[str] | None, dags_of_file: Mapping[str, set[str]]
) -> bool:
    """Whether ``row``'s file defines a DAG outside ``readable`` (None: all are readable)."""
    if readable is None:
        return False
    return not dags_of_file.get(row.filename, set()) <= set(readable)
