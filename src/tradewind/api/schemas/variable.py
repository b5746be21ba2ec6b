"""``Variable`` and ``VariableCollection``: key, value and description.

The value of a variable whose key looks sensitive (``db_password``, ``api_key``, ...;
:mod:`tradewind.security.sensitive`) is returned as ``***`` in every response, as task
logs mask it; the stored value is untouched. As in Airflow 2.10, list items carry the
value too, although the spec's ``VariableCollectionItem`` leaves it out.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tradewind.api.schemas.base import RequestBody, ResponseBody
from tradewind.errors import InvalidInput
from tradewind.security.sensitive import MASK, is_sensitive_name
from tradewind.storage.pagination import Page
from tradewind.storage.tables import VariableRow
from tradewind.storage.tables.base import ID_LENGTH

#: API field name -> ``VariableRow`` column, where they differ (``order_by``, changes).
COLUMNS = {"value": "val"}


class Variable(ResponseBody):
    key: str
    value: str | None
    description: str | None

    @classmethod
    def from_row(cls, row: VariableRow) -> Variable:
        value = MASK if row.val is not None and is_sensitive_name(row.key) else row.val
        return cls(key=row.key, value=value, description=row.description)


class VariableCollection(ResponseBody):
    variables: list[Variable]
    total_entries: int

    @classmethod
    def from_page(cls, page: Page[VariableRow]) -> VariableCollection:
        return cls(
            variables=[Variable.from_row(row) for row in page.items],
            total_entries=page.total_entries,
        )


class VariableBody(RequestBody):
    """POST and PATCH bodies: the spec's ``Variable``."""

    key: str | None = Field(default=None, max_length=ID_LENGTH)
    value: str | None = None
    description: str | None = None

    def changes(self, update_mask: list[str] | None) -> dict[str, Any]:
        """The columns a PATCH changes: the masked fields, or those the body sets.

        Raises:
            InvalidInput: the mask names ``key`` or an unknown field, or the value
                would become null.
        """
        updatable = ("value", "description")
        if update_mask is None:
            wanted = [name for name in self.model_fields_set if name in updatable]
        else:
            for name in update_mask:
                if name not in updatable:
                    raise InvalidInput(f"'{name}' is unknown or cannot be updated.")
            wanted = list(update_mask)
        changes = {COLUMNS.get(name, name): getattr(self, name) for name in wanted}
        if "val" in changes and changes["val"] is None:
            raise InvalidInput("value cannot be null")
        return changes
