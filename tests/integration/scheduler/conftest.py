"""Fixtures of the scheduler loop tests: a frozen clock and a scheduler over the
InlineExecutor (real worker code, stepped by the test through ``tick`` and
``handle_events``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scheduler_support import Clock
from sqlalchemy.orm import Session, sessionmaker

from tradewind.config import Settings
from tradewind.dag_processing.processor import collect_dags
from tradewind.executors.inline import InlineExecutor
from tradewind.scheduler.loop import Scheduler


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dags_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir()
    return folder


@pytest.fixture
def inline_executor(
    settings: Settings, session_factory: sessionmaker[Session], clock: Clock
) -> Iterator[InlineExecutor]:
    executor = InlineExecutor(
        settings, session_factory=session_factory, dag_loader=collect_dags, clock=clock
    )
    executor.start()
    yield executor
    executor.end()


@pytest.fixture
def scheduler(
    settings: Settings,
    session_factory: sessionmaker[Session],
    inline_executor: InlineExecutor,
    clock: Clock,
) -> Scheduler:
    return Scheduler(settings, session_factory, inline_executor, clock)
