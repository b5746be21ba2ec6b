"""Fixtures of the task-runner tests: a frozen clock and an in-memory task instance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from execution_support import START, FrozenClock

from tradewind.execution.memory import InMemoryXComStore, LocalTaskInstance


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def xcoms() -> InMemoryXComStore:
    return InMemoryXComStore()


@pytest.fixture
def make_ti(xcoms: InMemoryXComStore) -> Callable[..., LocalTaskInstance]:
    def make(task: Any, try_number: int = 1, run_id: str = "run1") -> LocalTaskInstance:
        return LocalTaskInstance(
            dag_id=task.dag_id,
            task_id=task.task_id,
            run_id=run_id,
            xcom_store=xcoms,
            try_number=try_number,
            max_tries=task.retries,
            task=task,
            logical_date=START,
        )

    return make
