"""Whether a failed try is retried, and after how long — Airflow 2.10's rules.

Pure functions of the task's retry policy and the try number, so the scheduler,
the worker and ``tradewind dags test`` agree on them without a database.

With ``retry_exponential_backoff`` the delay after try ``n`` is
``retry_delay * 2**(n-1)`` (rounded up to whole seconds, at least 1 s) plus a
deterministic jitter in ``[0, that)`` derived from a SHA-1 of the task instance's
identity, so many failing task instances do not all retry at the same instant
yet one task instance always computes the same delay. The result is capped by
:data:`MAX_RETRY_DELAY`, then by the task's ``max_retry_delay``.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from typing import Protocol

from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.exceptions import TaskFailed

#: Upper bound of an exponential-backoff delay (Airflow's ``[core] max_task_retry_delay``
#: default), so large try numbers cannot overflow ``timedelta``.
MAX_RETRY_DELAY = timedelta(hours=24)


class RetryPolicy(Protocol):
    """What the delay depends on: an SDK operator or a scheduler's view of a task."""

    @property
    def dag_id(self) -> str: ...

    @property
    def task_id(self) -> str: ...

    @property
    def retry_delay(self) -> timedelta: ...

    @property
    def retry_exponential_backoff(self) -> bool: ...

    @property
    def max_retry_delay(self) -> timedelta | None: ...


def next_retry_delay(
    task: RetryPolicy, try_number: int, *, logical_date: datetime | None = None
) -> timedelta:
    """How long to wait after try ``try_number`` failed before the next try.

    Args:
        task: supplies ``retry_delay``, ``retry_exponential_backoff`` and ``max_retry_delay``.
        try_number: the try that just failed, 1 for the first.
        logical_date: the run's logical date; part of the jitter's seed (Airflow
            seeds it with ``dag_id#task_id#logical_date#try_number``). None seeds
            with an empty date.

    Returns:
        A non-negative delay. Without exponential backoff it is ``retry_delay``.
    """
    delay = task.retry_delay
    if not task.retry_exponential_backoff:
        return delay
    min_backoff = max(1, math.ceil(delay.total_seconds() * 2 ** (try_number - 1)))
    seed = f"{task.dag_id}#{task.task_id}#{_date_text(logical_date)}#{try_number}"
    jitter = int(hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest(), 16)
    seconds = min(min_backoff + jitter % min_backoff, MAX_RETRY_DELAY.total_seconds())
    backoff = timedelta(seconds=seconds)
    if task.max_retry_delay:
        backoff = min(task.max_retry_delay, backoff)
    return backoff


def should_retry(task: BaseOperator, try_number: int, error: BaseException | None = None) -> bool:
    """Whether a try that failed with ``error`` gets another try.

    True when the task has retries left (``try_number <= retries``) and the error is
    not one that fails without retry (``TaskFailed``, and so ``SensorTimeout``).
    ``TaskTimeout`` and any other exception are retried.
    """
    if isinstance(error, TaskFailed):
        return False
    return task.retries > 0 and try_number <= task.retries


def _date_text(value: datetime | None) -> str:
    # Airflow formats its (pendulum) execution date the ISO way: 2024-01-01T00:00:00+00:00.
    return value.isoformat() if value is not None else ""
