"""Run operators in unit tests without the task runner (imported by name; tests/ has no packages).

``FakeTI`` implements the runtime ``ti`` protocol (``tradewind.sdk.runtime``) over a
plain dict of XComs and records the ids it was asked to skip; :func:`run` executes
one task with a minimal context and pushes its result as the runner does.
Templates are not rendered: tests give operators already-rendered values.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from tradewind import DAG
from tradewind.sdk.baseoperator import BaseOperator

LOGICAL_DATE = datetime(2024, 1, 2, tzinfo=UTC)
RUN_ID = "manual__2024-01-02T00:00:00+00:00"

XComStore = dict[tuple[str, str], Any]


class FakeTI:
    """The ``ti`` of one task try; XComs live in a store shared by the tasks of a run."""

    def __init__(self, op: BaseOperator, xcoms: XComStore) -> None:
        self.dag_id = op.dag_id
        self.task_id = op.task_id
        self.run_id = RUN_ID
        self.map_index = -1
        self.try_number = 1
        self.max_tries = op.retries
        self.xcoms = xcoms
        self.skipped: list[str] = []

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[(self.task_id, key)] = value

    def xcom_pull(
        self, task_ids: str | Iterable[str] | None = None, key: str = "return_value", **_: Any
    ) -> Any:
        if isinstance(task_ids, str):
            return self.xcoms.get((task_ids, key))
        return [self.xcoms.get((task_id, key)) for task_id in task_ids or ()]

    def skip_tasks(self, task_ids: Iterable[str]) -> None:
        self.skipped.extend(task_ids)


def run(op: BaseOperator, xcoms: XComStore | None = None, **params: Any) -> tuple[Any, FakeTI]:
    """Execute ``op``; return its result and its ti. ``params`` override the DAG's."""
    ti = FakeTI(op, {} if xcoms is None else xcoms)
    context: dict[str, Any] = {
        "ti": ti,
        "task_instance": ti,
        "task": op,
        "dag": op.dag,
        "ds": LOGICAL_DATE.strftime("%Y-%m-%d"),
        "logical_date": LOGICAL_DATE,
        "run_id": RUN_ID,
        "params": {**op.dag.params, **op.params, **params},
    }
    result = op.execute(context)
    if op.do_xcom_push and result is not None:  # what the runner does after execute
        if op.multiple_outputs:
            for key, value in result.items():
                ti.xcom_push(key, value)
        ti.xcom_push("return_value", result)
    return result, ti


def run_all(dag: DAG, **params: Any) -> XComStore:
    """Run every task of ``dag`` once in dependency order; return the XCom store."""
    xcoms: XComStore = {}
    for op in dag.topological_sort():
        run(op, xcoms, **params)
    return xcoms


def make_dag(dag_id: str = "test") -> DAG:
    return DAG(dag_id, schedule=None, start_date=datetime(2024, 1, 1))
