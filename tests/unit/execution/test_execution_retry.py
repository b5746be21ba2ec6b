"""Retry policy: Airflow 2.10's delays, backoff, cap and which errors are retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradewind.execution.retry import MAX_RETRY_DELAY, next_retry_delay, should_retry
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.exceptions import SensorTimeout, TaskFailed, TaskTimeout

DATE = datetime(2024, 1, 1, tzinfo=UTC)


def op(**kwargs: object) -> BaseOperator:
    return BaseOperator(task_id="t", **kwargs)  # type: ignore[arg-type]


def test_plain_delay_is_retry_delay() -> None:
    task = op(retries=3, retry_delay=timedelta(seconds=30))
    assert next_retry_delay(task, 1) == timedelta(seconds=30)
    assert next_retry_delay(task, 3) == timedelta(seconds=30)


@pytest.mark.parametrize("try_number", [1, 2, 3, 4, 5])
def test_exponential_backoff_doubles_with_bounded_jitter(try_number: int) -> None:
    task = op(retries=5, retry_delay=timedelta(seconds=10), retry_exponential_backoff=True)
    base = 10 * 2 ** (try_number - 1)
    delay = next_retry_delay(task, try_number, logical_date=DATE).total_seconds()
    assert base <= delay < 2 * base


def test_exponential_backoff_is_deterministic_per_task_instance() -> None:
    task = op(retries=5, retry_delay=timedelta(seconds=10), retry_exponential_backoff=True)
    first = next_retry_delay(task, 2, logical_date=DATE)
    assert next_retry_delay(task, 2, logical_date=DATE) == first
    others = {next_retry_delay(task, 2, logical_date=DATE + timedelta(days=d)) for d in range(8)}
    assert len(others) > 1  # the jitter spreads task instances of different runs


def test_exponential_backoff_matches_airflow_formula() -> None:
    import hashlib

    task = op(retries=5, retry_delay=timedelta(seconds=7), retry_exponential_backoff=True)
    seed = f"{task.dag_id}#t#{DATE.isoformat()}#3"
    digest = int(hashlib.sha1(seed.encode()).hexdigest(), 16)
    assert next_retry_delay(task, 3, logical_date=DATE) == timedelta(seconds=28 + digest % 28)


def test_zero_delay_backoff_waits_at_least_one_second() -> None:
    task = op(retries=1, retry_delay=0, retry_exponential_backoff=True)
    assert next_retry_delay(task, 1) == timedelta(seconds=1)


def test_max_retry_delay_caps_backoff() -> None:
    task = op(
        retries=10,
        retry_delay=timedelta(seconds=60),
        retry_exponential_backoff=True,
        max_retry_delay=timedelta(minutes=5),
    )
    assert next_retry_delay(task, 1) <= timedelta(minutes=2)
    assert next_retry_delay(task, 8) == timedelta(minutes=5)


def test_huge_try_numbers_do_not_overflow() -> None:
    task = op(retries=500, retry_delay=timedelta(hours=1), retry_exponential_backoff=True)
    assert next_retry_delay(task, 400) == MAX_RETRY_DELAY


def test_should_retry_while_tries_remain() -> None:
    task = op(retries=2)
    assert should_retry(task, 1, ValueError())
    assert should_retry(task, 2, TaskTimeout())
    assert not should_retry(task, 3, ValueError())
    assert not should_retry(op(retries=0), 1, ValueError())


@pytest.mark.parametrize("error", [TaskFailed("no"), SensorTimeout("gave up")])
def test_fail_without_retry_errors_are_never_retried(error: Exception) -> None:
    assert not should_retry(op(retries=5), 1, error)
