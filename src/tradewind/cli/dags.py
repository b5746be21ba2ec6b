"""``tradewind dags``: list DAGs and import errors, draw a DAG, run one in-process.

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

from tradewind.cli.context import get_settings
from tradewind.cli.dag_loading import load_dag
from tradewind.cli.database import sessions
from tradewind.cli.output import output_option, render
from tradewind.errors import InvalidInput
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
        logical_date=_parse_date(logical_date),
        conf=_parse_conf(conf),
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


def _parse_date(text: str | None) -> datetime | None:
    if text is None:
        return None
    from tradewind.sdk.time import parse_datetime

    try:
        return parse_datetime(text)
    except ValueError:
        raise InvalidInput(
            f"Invalid logical date {text!r}: use ISO 8601, e.g. 2024-01-01 or 2024-01-01T10:00:00Z"
        ) from None


def _parse_conf(text: str | None, option: str = "--conf") -> dict[str, Any] | None:
    """The JSON object given to ``option``; errors name that option."""
    if text is None:
        return None
    try:
        conf = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{option} is not valid JSON: {exc}") from None
    if not isinstance(conf, dict):
        raise InvalidInput(f"{option} must be a JSON object, got {type(conf).__name__}")
    return conf
