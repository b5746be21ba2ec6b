"""Serialization owns DAG ⇄ JSON: the only form of a DAG the scheduler, API and UI see.

The DAG processor (which imports user DAG files) calls :func:`serialize_dag` and stores
the document; every other process calls :func:`deserialize_dag` and works with the
read-only :class:`SerializedDAG`, which holds data and never code. :func:`dag_hash`
lets the DAG processor skip writing a DAG that did not change.

Imports only ``tradewind.sdk``, ``tradewind.errors``, the standard library and
python-dateutil (for ``relativedelta``): no SQLAlchemy, FastAPI or httpx, which the
import-linter contracts in pyproject.toml enforce.

Modules: ``encoders`` (tagged JSON for values), ``schedule`` (what the API shows of a
timetable), ``serialized_dag`` (the read-only model), ``graph`` (order, reachability,
priority weights) and ``dag_codec`` (the document itself).
"""

from __future__ import annotations

from tradewind.serialization.dag_codec import (
    SCHEMA_VERSION,
    dag_hash,
    deserialize_dag,
    serialize_dag,
)
from tradewind.serialization.encoders import XComArgRef, decode_value, encode_value
from tradewind.serialization.serialized_dag import (
    SerializedDAG,
    SerializedParam,
    SerializedTask,
    SerializedTaskGroup,
)

__all__ = [
    "SCHEMA_VERSION",
    "SerializedDAG",
    "SerializedParam",
    "SerializedTask",
    "SerializedTaskGroup",
    "XComArgRef",
    "dag_hash",
    "decode_value",
    "deserialize_dag",
    "encode_value",
    "serialize_dag",
]
