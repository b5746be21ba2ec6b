"""``tradewind scheduler``: the scheduler loop, its executor and (by default) the DAG
processor, in one process, until SIGINT or SIGTERM.

This is a composition root: it builds the engine, the executor named by ``[core]
executor`` (``LocalExecutor``: warm worker processes; ``SequentialExecutor``: the
in-process ``InlineExecutor``; ``CeleryExecutor`` is not available yet; any other
``module.Class`` is built as ``Class(settings)``), the wake-up listener and the
:class:`~tradewind.scheduler.loop.Scheduler`, and runs ``DagFileProcessor.run_forever``
in a child process (``dag_processing.child_process``: never a thread, since the
scheduler forks workers and callback runners and a fork must not copy another
thread's locks) unless ``--no-dag-processor`` says a separate ``tradewind
dag-processor`` does that job, and the
:class:`~tradewind.scheduler.callbacks.CallbackRunner` of DAG callbacks.

Stopping is orderly: the first signal asks the loop to return after its current tick;
then the DAG processor child is stopped, the executor ends (waiting for running tries,
then terminating and reaping its workers, so no process is orphaned), the wake-up
socket is removed and the scheduler job is marked finished.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType

import click
from sqlalchemy.orm import Session, sessionmaker

from tradewind.cli import database
from tradewind.cli.context import get_settings
from tradewind.config import Settings
from tradewind.dag_processing.child_process import DagProcessorProcess
from tradewind.dag_processing.processor import DagFileProcessor, collect_dags
from tradewind.errors import ConfigError
from tradewind.executors.base import Executor
from tradewind.processes import freeze_startup_objects
from tradewind.scheduler.callbacks import CallbackRunner
from tradewind.scheduler.loop import Scheduler
from tradewind.storage import sqlite_write_queue
from tradewind.storage.engine import display_url, session_factory
from tradewind.storage.wakeup import SchedulerWakeup

logger = logging.getLogger(__name__)

#: Seconds the executor gives running tries to finish when the scheduler stops.
EXECUTOR_END_TIMEOUT = 30.0
#: Seconds the DAG processor child gets to finish its pass before SIGKILL.
PROCESSOR_STOP_TIMEOUT = 10.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def build_executor(settings: Settings, sessions: sessionmaker[Session]) -> Executor:
    """The executor named by ``[core] executor`` (not started).

    Raises:
        ConfigError: CeleryExecutor, or a ``module.Class`` that cannot be imported.
    """
    name = settings.core.executor
    if name == "LocalExecutor":
        from tradewind.executors.local import LocalExecutor

        return LocalExecutor(settings.core.parallelism, settings, dag_loader=collect_dags)
    if name == "SequentialExecutor":
        from tradewind.executors.inline import InlineExecutor

        return InlineExecutor(settings, session_factory=sessions, dag_loader=collect_dags)
    if name == "CeleryExecutor":
        raise ConfigError("[core] executor: CeleryExecutor is not available yet")
    module_name, _, class_name = name.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"[core] executor: cannot import {name!r}: {exc}") from exc
    executor: Executor = cls(settings)
    return executor


@contextmanager
def _stop_on_signals(scheduler: Scheduler) -> Iterator[None]:
    """Route SIGINT and SIGTERM to ``scheduler.request_stop`` while the block runs."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        logger.info("Received %s: stopping the scheduler", signal.Signals(signum).name)
        scheduler.request_stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _configure_logging(settings: Settings) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=settings.logging.logging_level.upper(),
            format="[%(asctime)s] {%(name)s} %(levelname)s - %(message)s",
        )
    # Alembic announces its migration context at INFO on every start; only problems matter.
    logging.getLogger("alembic").setLevel(logging.WARNING)


@click.command()
@click.option(
    "--dag-processor/--no-dag-processor",
    default=True,
    show_default=True,
    help="Parse DAG files in this process; turn off when `tradewind dag-processor` runs.",
)
@click.pass_context
def scheduler(ctx: click.Context, dag_processor: bool) -> None:
    """Run the scheduler: create DAG runs, queue ready tasks, run them on the executor."""
    settings = get_settings(ctx)
    _configure_logging(settings)
    engine = database.engine(ctx)
    sessions = session_factory(engine)
    executor = build_executor(settings, sessions)
    # Workers are forked by start(): let them inherit no open database connection.
    engine.dispose()
    # Before forking the DAG processor and the workers, which inherit the frozen state.
    freeze_startup_objects()
    processor: DagProcessorProcess | None = None
    if dag_processor:
        # Forked before the executor's workers, so it holds none of their pipes.
        processor = DagProcessorProcess(
            lambda: DagFileProcessor(settings.core, settings.scheduler, sessions, utcnow), engine
        )
        processor.start()
    # This process's database work is its loop's, in this thread: queue its writes
    # with the workers' (after forking the processor, which does not queue).
    sqlite_write_queue.enable()
    executor.start()
    wakeup = SchedulerWakeup(settings, engine)
    callbacks = CallbackRunner(settings, collect_dags)
    loop = Scheduler(
        settings,
        sessions,
        executor,
        utcnow,
        wakeup,
        callbacks=callbacks,
        supervise=processor.supervise if processor is not None else None,
    )
    stop = threading.Event()
    try:
        with _stop_on_signals(loop):
            click.echo(
                f"Scheduler started: {settings.core.executor}, database "
                f"{display_url(engine.url)}, DAGs folder {settings.core.dags_folder}",
                err=True,
            )
            loop.run(stop)
    finally:
        if processor is not None:
            processor.stop(PROCESSOR_STOP_TIMEOUT)
        executor.end(EXECUTOR_END_TIMEOUT)
        wakeup.close()
    click.echo("Scheduler stopped.", err=True)
