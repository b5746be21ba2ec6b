"""A user's request to re-parse one DAG file now (API ``PUT /parseDagFile``).

Airflow 2.10's ``DagPriorityParsingRequest``: the API server cannot import DAG files, so it
leaves a row here; the DAG processor parses the requested files first on its next pass,
whether or not they changed, and deletes the rows. The key is a hash of the path, so asking
twice before the processor gets to it leaves one request.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tradewind.storage.tables.base import Base


class DagParsingRequestRow(Base):
    """One pending re-parse of the file ``fileloc``."""

    __tablename__ = "dag_priority_parsing_request"

    #: SHA-256 (hex) of ``fileloc``: one request per file.
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    fileloc: Mapped[str] = mapped_column(sa.String(2000))

    @staticmethod
    def key_of(fileloc: str) -> str:
        return hashlib.sha256(fileloc.encode("utf-8")).hexdigest()
