"""``tradewind tasks``: list the tasks of a DAG and run one task in-process."""

from __future__ import annotations

import click

from tradewind.cli.context import get_settings
from tradewind.cli.dag_loading import load_dag
from tradewind.cli.dags import _parse_conf, _parse_date, _template_accessors
from tradewind.cli.output import output_option, render


@click.group()
def tasks() -> None:
    """Inspect and run tasks."""


@tasks.command("list")
@click.argument("dag_id")
@click.option("-t", "--tree", is_flag=True, help="Show the dependencies as a tree.")
@output_option
@click.pass_context
def list_tasks(ctx: click.Context, dag_id: str, tree: bool, output: str) -> None:
    """List the tasks of DAG_ID in topological order."""
    dag = load_dag(ctx, dag_id)
    if tree:
        from rich.console import Console

        from tradewind.cli.dag_drawing import dag_tree

        Console().print(dag_tree(dag))
        return
    rows = [
        {
            "task_id": task.task_id,
            "operator": task.operator_name,
            "trigger_rule": task.trigger_rule.value,
            "upstream": ", ".join(sorted(task.upstream_task_ids)),
        }
        for task in dag.topological_sort()
    ]
    render(rows, output)


@tasks.command("test")
@click.argument("dag_id")
@click.argument("task_id")
@click.argument("logical_date", required=False)
@click.option("-t", "--task-params", help="JSON object overriding params for this run.")
@click.pass_context
def test(
    ctx: click.Context,
    dag_id: str,
    task_id: str,
    logical_date: str | None,
    task_params: str | None,
) -> None:
    """Run one try of TASK_ID in this process, ignoring upstream states; record nothing.

    Exits 1 when the try does not succeed.
    """
    from tradewind.cli.run_report import print_task_report
    from tradewind.execution.dag_test import run_single_task
    from tradewind.execution.secrets_masker import SecretsMasker

    get_settings(ctx)
    dag = load_dag(ctx, dag_id)
    masker = SecretsMasker()
    variables, connections = _template_accessors(ctx, masker)
    report = run_single_task(
        dag,
        task_id,
        logical_date=_parse_date(logical_date),
        task_params=_parse_conf(task_params, "--task-params"),
        variables=variables,
        connections=connections,
        echo=True,
        masker=masker,
    )
    print_task_report(report, masker)
    if report.state.value not in ("success", "skipped"):
        ctx.exit(1)
