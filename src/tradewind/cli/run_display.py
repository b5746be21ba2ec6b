"""How the CLI shows DAG runs: one row per run, and waiting for a run to finish."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from tradewind.cli.database import sessions
from tradewind.storage.engine import transaction

if TYPE_CHECKING:
    from tradewind.storage.tables import DagRunRow

#: Columns of ``dags trigger`` and ``dags list-runs`` output: Airflow's, but named
#: ``logical_date`` (Airflow 2.10 prints ``execution_date`` in ``list-runs``).
RUN_COLUMNS = ("dag_id", "run_id", "state", "run_type", "logical_date", "start_date", "end_date")
#: Seconds between two looks at the run's state in ``dags trigger --wait``.
WAIT_POLL_INTERVAL = 1.0
_FINISHED_TI_STATES = ("success", "skipped", "failed", "upstream_failed", "removed")
_FINISHED_RUN_STATES = ("success", "failed")


def run_row(run: DagRunRow) -> dict[str, Any]:
    """One run as ``dags trigger`` and ``dags list-runs`` print it."""
    return {
        "dag_id": run.dag_id,
        "run_id": run.run_id,
        "state": run.state,
        "run_type": run.run_type,
        "logical_date": _iso(run.logical_date),
        "start_date": _iso(run.start_date),
        "end_date": _iso(run.end_date),
        "data_interval_start": _iso(run.data_interval_start),
        "data_interval_end": _iso(run.data_interval_end),
        "conf": run.conf,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def wait_for_run(ctx: click.Context, dag_id: str, run_id: str) -> str:
    """Poll the run until it is finished, showing its progress on stderr; its state."""
    import time

    from rich.console import Console

    from tradewind.storage.repositories.dag_runs import require_dag_run
    from tradewind.storage.repositories.task_instances import tis_of_run

    console = Console(stderr=True)
    with console.status(f"Waiting for {dag_id} / {run_id}") as status:
        while True:
            with transaction(sessions(ctx)) as session:
                state = require_dag_run(session, dag_id, run_id).state
                tis = tis_of_run(session, dag_id, run_id)
            done = sum(ti.state in _FINISHED_TI_STATES for ti in tis)
            status.update(f"{dag_id} / {run_id}: {state}, {done}/{len(tis)} tasks done")
            if state in _FINISHED_RUN_STATES:
                break
            time.sleep(WAIT_POLL_INTERVAL)
    console.print(f"Run {run_id} of {dag_id} finished: {state}", markup=False, highlight=False)
    return state


def wait_for_runs(ctx: click.Context, dag_id: str, run_ids: list[str]) -> dict[str, str]:
    """Poll the runs until every one is finished, with a progress bar on stderr (runs
    done out of the total, and task instances done); each run's final state.

    Two queries per poll whatever the number of runs. A run deleted meanwhile counts
    as ``failed``: it will never succeed.
    """
    import time

    import sqlalchemy as sa
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from tradewind.storage.tables import DagRunRow, TaskInstanceRow

    console = Console(stderr=True)
    wanted = set(run_ids)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task(f"{dag_id}: runs", total=len(run_ids))
        while True:
            with transaction(sessions(ctx)) as session:
                states = dict(
                    session.execute(
                        sa.select(DagRunRow.run_id, DagRunRow.state).where(
                            DagRunRow.dag_id == dag_id, DagRunRow.run_id.in_(run_ids)
                        )
                    ).all()
                )
                ti_states = session.scalars(
                    sa.select(TaskInstanceRow.state).where(
                        TaskInstanceRow.dag_id == dag_id, TaskInstanceRow.run_id.in_(run_ids)
                    )
                ).all()
            finished = {
                run_id: states.get(run_id, "failed")
                for run_id in wanted
                if states.get(run_id, "failed") in _FINISHED_RUN_STATES
            }
            done = sum(state in _FINISHED_TI_STATES for state in ti_states)
            progress.update(
                bar,
                completed=len(finished),
                description=f"{dag_id}: runs done, {done}/{len(ti_states)} tasks done",
            )
            if len(finished) == len(wanted):
                return finished
            time.sleep(WAIT_POLL_INTERVAL)
