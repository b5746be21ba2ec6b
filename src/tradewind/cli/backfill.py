"""``tradewind dags backfill``: queue the runs of a past date range and follow them.

The command (declared in ``cli/dags.py``, which imports this module only when it runs)
calls :func:`tradewind.services.backfill.backfill_dag` in one transaction, wakes the
scheduler, and, unless ``--no-wait``, shows the runs' progress until all are finished,
exiting 1 if any failed, as Airflow's blocking ``dags backfill`` does. The scheduler
runs the tasks (``tradewind scheduler`` or ``tradewind standalone`` must be running);
see the service's docstring for the semantics and where they differ from Airflow.

Airflow options left out, because the scheduler, not this command, runs the tasks:
``--local``, ``--mark-success``, ``--pool``, ``--donot-pickle``, ``--delay-on-limit``,
``--continue-on-failures``, ``--disable-retry``, ``--ignore-dependencies``,
``--ignore-first-depends-on-past``, ``--task-regex`` and ``--treat-dag-id-as-regex``.
"""

from __future__ import annotations

from typing import Any

import click

from tradewind.cli.arguments import current_user, parse_conf, parse_date, utcnow
from tradewind.cli.database import sessions, wake_scheduler
from tradewind.cli.output import render
from tradewind.errors import InvalidInput
from tradewind.services.backfill import Backfill, BackfillAction, backfill_dag
from tradewind.storage.engine import transaction

#: Columns of the table of a backfill's dates.
DATE_COLUMNS = ("logical_date", "data_interval_end", "run_id", "action", "state", "cleared")


def run_backfill(
    ctx: click.Context,
    dag_id: str,
    *,
    start_date: str | None,
    end_date: str | None,
    conf: str | None,
    reset_dagruns: bool,
    rerun_failed_tasks: bool,
    run_backwards: bool,
    dry_run: bool,
    yes: bool,
    wait: bool,
    output: str,
) -> None:
    """The body of ``dags backfill`` (its options are documented there)."""
    if start_date is None and end_date is None:
        raise InvalidInput("Provide a start date (-s) and/or an end date (-e)")
    # As Airflow: one date alone is both ends.
    start = parse_date(start_date or end_date)
    end = parse_date(end_date or start_date)
    assert start is not None and end is not None
    options: dict[str, Any] = {
        "start": start,
        "end": end,
        "conf": parse_conf(conf),
        "reset_dagruns": reset_dagruns,
        "rerun_failed_tasks": rerun_failed_tasks,
        "run_backwards": run_backwards,
        "owner": current_user(),
    }

    def backfill(dry: bool) -> Backfill:
        # IMMEDIATE: it reads, then writes; SQLite cannot upgrade a read lock while a
        # scheduler writes, and would fail at once rather than wait.
        with transaction(sessions(ctx), sqlite_begin="IMMEDIATE") as session:
            return backfill_dag(session, dag_id, now=utcnow(), dry_run=dry, **options)

    if dry_run:
        planned = backfill(dry=True)
        click.echo(f"Dry run of DAG {dag_id} from {start.isoformat()} to {end.isoformat()}:")
        render(_date_rows(planned), output, columns=DATE_COLUMNS)
        return
    if reset_dagruns and not yes and not _confirm_reset(backfill(dry=True)):
        click.echo("Cancelled, nothing was done.")
        return
    done = backfill(dry=False)
    wake_scheduler(ctx)
    render(_date_rows(done), output, columns=DATE_COLUMNS)
    click.echo(_summary(done), err=True)
    if not done.dates or not wait:
        return
    _follow(ctx, done)


def _date_rows(backfill: Backfill) -> list[dict[str, Any]]:
    return [
        {
            "logical_date": date.logical_date.isoformat(),
            "run_id": date.run_id,
            "action": date.action.value,
            "state": date.run_state,
            "data_interval_end": date.data_interval.end.isoformat(),
            "cleared": date.cleared,
        }
        for date in backfill.dates
    ]


def _summary(backfill: Backfill) -> str:
    if not backfill.dates:
        return f"No run dates were found for DAG {backfill.dag_id} in the given range."
    parts = [f"{backfill.count(BackfillAction.CREATE)} run(s) created"]
    for action, words in (
        (BackfillAction.RESET, "reset"),
        (BackfillAction.RERUN_FAILED, "with failed tasks cleared"),
        (BackfillAction.SKIP, "already there, left as they are"),
    ):
        if backfill.count(action):
            parts.append(f"{backfill.count(action)} {words}")
    return f"Backfill of {backfill.dag_id}: {', '.join(parts)}."


def _confirm_reset(planned: Backfill) -> bool:
    """Ask before clearing existing runs (Airflow's ``DAG.clear`` prompt); True: go on."""
    reset = [date for date in planned.dates if date.action == BackfillAction.RESET]
    if not reset:
        return True
    listing = "\n".join(f"{date.run_id} ({date.cleared} task instance(s))" for date in reset)
    question = f"You are about to reset these {len(reset)} DAG runs:\n{listing}\n\nAre you sure?"
    return click.confirm(question, default=False)


def _follow(ctx: click.Context, backfill: Backfill) -> None:
    """Wait for every run of the backfill; exit 1 if any failed."""
    from tradewind.cli.run_display import wait_for_runs

    states = wait_for_runs(ctx, backfill.dag_id, backfill.run_ids)
    failed = sorted(run_id for run_id, state in states.items() if state != "success")
    succeeded = len(states) - len(failed)
    click.echo(
        f"Backfill of {backfill.dag_id} finished: {succeeded} run(s) succeeded, "
        f"{len(failed)} failed",
        err=True,
    )
    for run_id in failed:
        click.echo(f"  failed: {run_id}", err=True)
    if failed:
        ctx.exit(1)
