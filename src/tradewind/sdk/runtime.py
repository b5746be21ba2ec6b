"""What a running task can ask of Tradewind: the ``ti`` object in its context.

The SDK defines the contract; the task runner (``tradewind.execution``) provides
the implementation, backed by the metadata database in a worker and by memory in
``tradewind dags test`` and unit tests. Operators use only these methods, so they
run unchanged under either.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from tradewind.sdk.xcom_arg import RETURN_VALUE_KEY


class RuntimeTaskInstance(Protocol):
    """The task instance of the running try.

    Attributes:
        dag_id, task_id, run_id: identify the task instance.
        map_index: -1 for an unmapped task.
        try_number: 1 for the first try, incremented by each retry.
        max_tries: the try number after which no retry happens.
    """

    dag_id: str
    task_id: str
    run_id: str
    map_index: int
    try_number: int
    max_tries: int

    def xcom_push(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON-serialisable) under ``key`` for this task instance."""
        ...

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        key: str = RETURN_VALUE_KEY,
        dag_id: str | None = None,
        map_indexes: int | Iterable[int] | None = None,
        include_prior_dates: bool = False,
    ) -> Any:
        """Read XCom values of this run.

        Returns:
            For a single ``task_ids`` string, that task's value or None when it pushed
            none; for a list of task ids, a list of values in the same order.
        """
        ...

    def skip_tasks(self, task_ids: Iterable[str]) -> None:
        """Mark the given task instances of this run ``skipped`` (branching, short circuit).

        Only tasks that have not started yet are changed; it is atomic per task instance.
        """
        ...
