"""``tradewind dags``: list DAGs and import errors, draw a DAG, run one in-process;
trigger, pause and unpause DAGs, backfill them and inspect their runs (``trigger``,
``pause``, ``unpause``, ``backfill``, ``state``, ``list-runs``), which work on the
database only and never import DAG files. ``backfill``'s body is ``cli/backfill.py``.

``list`` and ``list-import-errors`` first bring the database up to date with the
DAG files (one processing pass, each file parsed in a child process with the
import timeout), as Airflow's commands parse the folder; ``show`` and ``test``
import the DAG's file in this process.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from tradewind.cli.arguments import current_user, parse_conf, parse_date, utcnow
from tradewind.cli.context import get_settings
from tradewind.cli.dag_loading import load_dag
from tradewind.cli.database import sessions, wake_scheduler
from tradewind.cli.output import output_option, render
from tradewind.cli.run_display import RUN_COLUMNS, run_row, wait_for_run
from tradewind.storage.engine import transaction

if TYPE_CHECKING:
    from tradewind.execution.secrets_masker import SecretsMasker


@click.group()
def dags() -> None:
    """Manage and run DAGs."""


def _sync_dag_files(ctx: click.Context) -> None:
    from tradewind.dag_processing.processor import DagFileProcessor

    settings = get_settings(ctx)
    processor = DagFileProcessor(
        settings.core, settings.scheduler, sessions(ctx), lambda: datetime.now(UTC)
    )
    processor.process_folder_once()


@dags.command("list")
@output_option
@click.option("--columns", help="Comma-separated columns to show (default: all).")
@click.pass_context
def list_dags(ctx: click.Context, output: str, columns: str | None) -> None:
    """List the DAGs found in the DAGs folder (and the examples, when loaded)."""
    from tradewind.storage.repositories.dags import list_dags as list_dag_rows

    _sync_dag_files(ctx)
    with transaction(sessions(ctx)) as session:
        page = list_dag_rows(session, limit=1_000_000)
        rows = [
            {
                "dag_id": dag.dag_id,
                "fileloc": dag.fileloc,
                "owners": dag.owners,
                "is_paused": dag.is_paused,
                "schedule": dag.timetable_summary,
                "tags": ", ".join(sorted(tag.name for tag in dag.tags)),
            }
            for dag in page.items
        ]
    render(rows, output, columns=columns.split(",") if columns else None)


@dags.command("list-import-errors")
@output_option
@click.pass_context
def list_import_errors(ctx: click.Context, output: str) -> None:
    """List DAG files that failed to import, with their error."""
    from tradewind.storage.repositories.import_errors import list_import_errors as list_rows

    _sync_dag_files(ctx)
    with transaction(sessions(ctx)) as session:
        rows = [
            {"filepath": row.filename, "error": row.stacktrace}
            for row in list_rows(session, limit=1_000_000).items
        ]
    render(rows, output)


@dags.command("show")
@click.argument("dag_id")
@click.option("--dot", is_flag=True, help="Print Graphviz DOT source instead of a text tree.")
@click.pass_context
def show(ctx: click.Context, dag_id: str, dot: bool) -> None:
    """Show the tasks of DAG_ID and their dependencies."""
    from tradewind.cli.dag_drawing import dag_to_dot, dag_tree

    dag = load_dag(ctx, dag_id)
    if dot:
        click.echo(dag_to_dot(dag))
        return
    from rich.console import Console

    Console().print(dag_tree(dag))


@dags.command("test")
@click.argument("dag_id")
@click.argument("logical_date", required=False)
@click.option("-c", "--conf", help="JSON object passed to the run as its conf.")
@click.pass_context
def test(ctx: click.Context, dag_id: str, logical_date: str | None, conf: str | None) -> None:
    """Run every task of DAG_ID once in this process, printing logs and results.

    Nothing is recorded in the database (Variables and Connections are read from it).
    Exits 1 when the run fails.
    """
    from tradewind.cli.run_report import print_dag_result, print_task_report
    from tradewind.execution.dag_test import run_dag_in_process
    from tradewind.execution.secrets_masker import SecretsMasker

    settings = get_settings(ctx)
    dag = load_dag(ctx, dag_id)
    masker = SecretsMasker()
    variables, connections = _template_accessors(ctx, masker)
    result = run_dag_in_process(
        dag,
        logical_date=parse_date(logical_date),
        conf=parse_conf(conf),
        variables=variables,
        connections=connections,
        log_folder=settings.logging.base_log_folder,
        echo=True,
        on_report=lambda report: print_task_report(report, masker),
        masker=masker,
    )
    print_dag_result(result)
    if not result.succeeded:
        ctx.exit(1)


def _template_accessors(ctx: click.Context, masker: SecretsMasker) -> tuple[Any, Any]:
    """Template ``var`` and ``conn`` reading the database; what they read is registered
    in ``masker``, the one the command prints with, as well as in the run's own."""
    from tradewind.execution.database_accessors import (
        DatabaseConnectionAccessor,
        DatabaseVariableAccessor,
    )
    from tradewind.execution.secrets_masker import (
        MaskingConnectionAccessor,
        MaskingVariableAccessor,
    )

    factory = sessions(ctx)
    return (
        MaskingVariableAccessor(DatabaseVariableAccessor(factory), masker),
        MaskingConnectionAccessor(DatabaseConnectionAccessor(factory), masker),
    )


@dags.command("trigger")
@click.argument("dag_id")
@click.option("-c", "--conf", help="JSON object given to the run as its conf.")
@click.option("-r", "--run-id", help="Run id (default: manual__<logical date>).")
@click.option(
    "-l",
    "--logical-date",
    "-e",
    "--exec-date",
    "logical_date",
    help="Logical date, ISO 8601 (default: now).",
)
@click.option(
    "--no-replace-microseconds",
    is_flag=True,
    help="Keep the logical date's microseconds (by default they are zeroed, as in Airflow).",
)
@click.option("--wait", is_flag=True, help="Wait for the run to finish; exit 1 if it fails.")
@output_option
@click.pass_context
def trigger(
    ctx: click.Context,
    dag_id: str,
    conf: str | None,
    run_id: str | None,
    logical_date: str | None,
    no_replace_microseconds: bool,
    wait: bool,
    output: str,
) -> None:
    """Create a queued run of DAG_ID; a running scheduler starts it (unless paused)."""
    from tradewind.services.dag_runs import trigger_dag_run

    now = utcnow()
    when = parse_date(logical_date) or now
    if not no_replace_microseconds:
        when = when.replace(microsecond=0)
    # IMMEDIATE: it reads then writes while the scheduler and workers commit; a deferred
    # SQLite transaction would fail with "database is locked" (SQLITE_BUSY_SNAPSHOT).
    with transaction(sessions(ctx), sqlite_begin="IMMEDIATE") as session:
        run = trigger_dag_run(
            session,
            dag_id,
            now=now,
            run_id=run_id,
            logical_date=when,
            conf=parse_conf(conf),
            owner=current_user(),
        )
        row = run_row(run)
    wake_scheduler(ctx)
    render([row], output, columns=(*RUN_COLUMNS, "conf"))
    if wait and wait_for_run(ctx, dag_id, row["run_id"]) != "success":
        ctx.exit(1)


@dags.command("pause")
@click.argument("dag_id")
@click.pass_context
def pause(ctx: click.Context, dag_id: str) -> None:
    """Pause DAG_ID: no new scheduled runs, and its queued runs wait."""
    from tradewind.services.dags import pause_dag

    with transaction(sessions(ctx), sqlite_begin="IMMEDIATE") as session:
        pause_dag(session, dag_id, now=utcnow(), owner=current_user())
    click.echo(f"Dag: {dag_id}, paused: True")


@dags.command("unpause")
@click.argument("dag_id")
@click.pass_context
def unpause(ctx: click.Context, dag_id: str) -> None:
    """Resume DAG_ID."""
    from tradewind.services.dags import unpause_dag

    with transaction(sessions(ctx), sqlite_begin="IMMEDIATE") as session:
        unpause_dag(session, dag_id, now=utcnow(), owner=current_user())
    wake_scheduler(ctx)
    click.echo(f"Dag: {dag_id}, paused: False")


@dags.command("state")
@click.argument("dag_id")
@click.argument("logical_date_or_run_id")
@click.pass_context
def state(ctx: click.Context, dag_id: str, logical_date_or_run_id: str) -> None:
    """Print the state of a run of DAG_ID (and its conf, if any); ``None`` if none."""
    from tradewind.services.dag_runs import find_dag_run
    from tradewind.storage.repositories.dags import require_dag

    with transaction(sessions(ctx)) as session:
        require_dag(session, dag_id)
        run = find_dag_run(session, dag_id, logical_date_or_run_id)
        found = None if run is None else (run.state, run.conf)
    if found is None:
        click.echo("None")
        return
    run_state, run_conf = found
    click.echo(run_state + (f", {json.dumps(run_conf)}" if run_conf else ""))


@dags.command("list-runs")
@click.argument("dag_id_argument", metavar="[DAG_ID]", required=False)
@click.option("-d", "--dag-id", help="The DAG (or give it as the argument).")
@click.option("--state", "run_state", help="Only runs in this state (queued, running, ...).")
@click.option("-s", "--start-date", help="Only runs with a logical date on or after this.")
@click.option("-e", "--end-date", help="Only runs with a logical date on or before this.")
@click.option("--no-backfill", is_flag=True, help="Leave out backfill runs.")
@output_option
@click.pass_context
def list_runs(
    ctx: click.Context,
    dag_id_argument: str | None,
    dag_id: str | None,
    run_state: str | None,
    start_date: str | None,
    end_date: str | None,
    no_backfill: bool,
    output: str,
) -> None:
    """List the runs of a DAG, latest logical date first."""
    from tradewind.storage.repositories.dag_runs import list_dag_runs
    from tradewind.storage.repositories.dags import require_dag

    chosen = dag_id or dag_id_argument
    if chosen is None:
        raise click.UsageError("Name the DAG: tradewind dags list-runs -d DAG_ID")
    run_types = ["manual", "scheduled", "dataset_triggered"] if no_backfill else None
    with transaction(sessions(ctx)) as session:
        require_dag(session, chosen)
        page = list_dag_runs(
            session,
            chosen,
            states=[run_state] if run_state else None,
            run_types=run_types,
            logical_date_gte=parse_date(start_date),
            logical_date_lte=parse_date(end_date),
            order_by="-logical_date",
            limit=1_000_000,
        )
        rows = [run_row(run) for run in page.items]
    render(rows, output, columns=RUN_COLUMNS)


@dags.command("backfill")
@click.argument("dag_id")
@click.option("-s", "--start-date", help="First logical date, ISO 8601 (alone: the only one).")
@click.option("-e", "--end-date", help="Last logical date, ISO 8601, inclusive.")
@click.option("-c", "--conf", help="JSON object given to the runs as their conf.")
@click.option("--reset-dagruns", is_flag=True, help="Clear existing runs in the range.")
@click.option("--rerun-failed-tasks", is_flag=True, help="Clear the failed tasks of existing runs.")
@click.option("-B", "--run-backwards", is_flag=True, help="Run the latest dates first.")
@click.option("-n", "--dry-run", is_flag=True, help="Print the dates; change nothing.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before --reset-dagruns clears.")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Follow the runs until they finish (exit 1 if any fails).",
)
@output_option
@click.pass_context
def backfill(ctx: click.Context, /, dag_id: str, **options: Any) -> None:
    """Queue a backfill run of DAG_ID for each date of its schedule in [START, END].

    The scheduler runs them (even if the DAG is paused), under max_active_runs; runs
    that already exist are left alone unless --reset-dagruns or --rerun-failed-tasks.
    """
    from tradewind.cli.backfill import run_backfill

    run_backfill(ctx, dag_id, **options)
