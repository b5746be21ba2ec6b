"""``XComCollection``, ``XComCollectionItem`` and ``XCom``: values task instances pushed.

Lists leave values out (they can be large); one entry carries its ``value``. Values
are stored as JSON. By default (``stringify``) the value is shown as Airflow 2.10 shows
it: as the text Python gives the value (``{'rows': 3}``, ``True``), ``null`` for None;
``stringify=false`` gives the JSON value itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tradewind.api.schemas.base import ResponseBody
from tradewind.storage.pagination import Page
from tradewind.storage.repositories.xcom import DatedXCom


class XComCollectionItem(ResponseBody):
    key: str
    timestamp: datetime
    execution_date: datetime
    map_index: int
    task_id: str
    dag_id: str

    @classmethod
    def fields_of(cls, entry: DatedXCom) -> dict[str, Any]:
        xcom = entry.xcom
        return {
            "key": xcom.key,
            "timestamp": xcom.timestamp,
            "execution_date": entry.logical_date,
            "map_index": xcom.map_index,
            "task_id": xcom.task_id,
            "dag_id": xcom.dag_id,
        }


class XComCollection(ResponseBody):
    xcom_entries: list[XComCollectionItem]
    total_entries: int

    @classmethod
    def from_page(cls, page: Page[DatedXCom]) -> XComCollection:
        return cls(
            xcom_entries=[
                XComCollectionItem(**XComCollectionItem.fields_of(entry)) for entry in page.items
            ],
            total_entries=page.total_entries,
        )


class XCom(XComCollectionItem):
    value: Any

    @classmethod
    def from_entry(cls, entry: DatedXCom, *, stringify: bool) -> XCom:
        value = entry.xcom.value
        if stringify and value is not None:
            value = str(value)
        return cls(**cls.fields_of(entry), value=value)
