"""``tradewind tasks``: list the tasks of a DAG and test one task in-process; clear task
instances and show their states (``clear``, ``state``, ``states-for-dag-run``), which
read the serialized DAG from the database and never import DAG files; and ``run`` one
task instance for real, through the worker's own code path (the semantics are in
:mod:`tradewind.services.task_runs`).

``tasks run`` differs from Airflow's in one spelling: ``-m`` is ``--map-index``, as in
``tasks state`` (Airflow's ``-m`` is ``--mark-success``, left out). ``--local`` is
accepted and changes nothing: the try always runs in this process, supervised by the
same heartbeat as a worker's. Airflow's ``--raw``, ``--pool``, ``--ship-dag``,
``--pickle``, ``--job-id``, ``--cfg-path``, ``--interactive``,
``--ignore-all-dependencies`` and ``--ignore-depends-on-past`` are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from tradewind.cli.arguments import current_user, parse_conf, parse_date, utcnow
from tradewind.cli.context import get_settings
from tradewind.cli.dag_loading import load_dag
from tradewind.cli.dags import _template_accessors
from tradewind.cli.database import sessions, wake_scheduler
from tradewind.cli.output import output_option, render
from tradewind.errors import Conflict, InvalidInput
from tradewind.storage.engine import transaction

if TYPE_CHECKING:
    from tradewind.serialization import SerializedTask
    from tradewind.storage.tables import TaskInstanceRow


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
        logical_date=parse_date(logical_date),
        task_params=parse_conf(task_params, "--task-params"),
        variables=variables,
        connections=connections,
        echo=True,
        masker=masker,
    )
    print_task_report(report, masker)
    if report.state.value not in ("success", "skipped"):
        ctx.exit(1)


@tasks.command("clear")
@click.argument("dag_id")
@click.option("-t", "--task-regex", help="Only tasks whose id matches this regular expression.")
@click.option("-s", "--start-date", help="Only runs with a logical date on or after this.")
@click.option("-e", "--end-date", help="Only runs with a logical date on or before this.")
@click.option("-f", "--only-failed", is_flag=True, help="Only failed (and upstream_failed) ones.")
@click.option("-r", "--only-running", is_flag=True, help="Only running ones.")
@click.option("-u", "--upstream", is_flag=True, help="Include the upstream tasks too.")
@click.option("-d", "--downstream", is_flag=True, help="Include the downstream tasks too.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def clear(
    ctx: click.Context,
    dag_id: str,
    task_regex: str | None,
    start_date: str | None,
    end_date: str | None,
    only_failed: bool,
    only_running: bool,
    upstream: bool,
    downstream: bool,
    yes: bool,
) -> None:
    """Clear task instances of DAG_ID so the scheduler runs them again.

    Prints the task instances first and asks for confirmation unless -y. Their
    finished runs go back to the queue, as with Airflow's ``tasks clear``.
    """
    from tradewind.services.dags import load_serialized_dag
    from tradewind.services.task_instances import clear_task_instances

    def run_clear(dry_run: bool) -> list[str]:
        with transaction(sessions(ctx), sqlite_begin="IMMEDIATE") as session:
            dag = load_serialized_dag(session, dag_id)
            task_ids = _matching_task_ids(dag.task_ids, task_regex)
            if not task_ids:
                return []
            tis = clear_task_instances(
                session,
                dag_id,
                serialized_dag=dag,
                task_ids=task_ids,
                start_date=parse_date(start_date),
                end_date=parse_date(end_date),
                only_failed=only_failed,
                only_running=only_running,
                include_upstream=upstream,
                include_downstream=downstream,
                dry_run=dry_run,
                now=utcnow(),
                owner=current_user(),
            )
            return [_describe(ti) for ti in tis]

    found = run_clear(dry_run=True)
    if not found:
        click.echo("No task instances to clear")
        return
    if not yes:
        listing = "\n".join(found)
        question = f"You are about to clear these {len(found)} task instances:\n{listing}\n\n"
        if not click.confirm(f"{question}Are you sure?", default=False):
            click.echo("Cancelled, nothing was cleared.")
            return
    cleared = run_clear(dry_run=False)
    wake_scheduler(ctx)
    click.echo(f"{len(cleared)} task instance(s) cleared")


def _matching_task_ids(task_ids: list[str], regex: str | None) -> list[str]:
    """Task ids containing a match of ``regex`` (Airflow's ``re.findall`` test)."""
    if regex is None:
        return task_ids
    try:
        pattern = re.compile(regex)
    except re.error as exc:
        raise InvalidInput(f"Invalid --task-regex {regex!r}: {exc}") from None
    return [task_id for task_id in task_ids if pattern.search(task_id)]


def _describe(ti: TaskInstanceRow) -> str:
    index = "" if ti.map_index < 0 else f" [{ti.map_index}]"
    return f"<TaskInstance: {ti.dag_id}.{ti.task_id} {ti.run_id}{index} [{ti.state}]>"


@tasks.command("state")
@click.argument("dag_id")
@click.argument("task_id")
@click.argument("logical_date_or_run_id")
@click.option("-m", "--map-index", type=int, default=-1, show_default=True)
@click.pass_context
def state(
    ctx: click.Context, dag_id: str, task_id: str, logical_date_or_run_id: str, map_index: int
) -> None:
    """Print the state of one task instance (``None`` when it has none yet)."""
    from tradewind.services.dag_runs import require_dag_run_by_id_or_date
    from tradewind.services.dags import load_serialized_dag
    from tradewind.storage.repositories.task_instances import require_task_instance

    with transaction(sessions(ctx)) as session:
        load_serialized_dag(session, dag_id).get_task(task_id)
        run = require_dag_run_by_id_or_date(session, dag_id, logical_date_or_run_id)
        ti = require_task_instance(session, dag_id, run.run_id, task_id, map_index)
        found = ti.state
    click.echo(str(found))


@tasks.command("states-for-dag-run")
@click.argument("dag_id")
@click.argument("logical_date_or_run_id")
@output_option
@click.pass_context
def states_for_dag_run(
    ctx: click.Context, dag_id: str, logical_date_or_run_id: str, output: str
) -> None:
    """List the task instances of one run of DAG_ID with their states."""
    from tradewind.services.dag_runs import require_dag_run_by_id_or_date
    from tradewind.services.task_instances import states_for_dag_run as task_states

    with transaction(sessions(ctx)) as session:
        run = require_dag_run_by_id_or_date(session, dag_id, logical_date_or_run_id)
        rows = [
            _state_row(ti, run.logical_date.isoformat())
            for ti in task_states(session, dag_id, run.run_id)
        ]
    render(rows, output)


def _state_row(ti: TaskInstanceRow, logical_date: str) -> dict[str, Any]:
    return {
        "dag_id": ti.dag_id,
        "logical_date": logical_date,
        "task_id": ti.task_id,
        "map_index": ti.map_index,
        "state": ti.state,
        "start_date": ti.start_date.isoformat() if ti.start_date else "",
        "end_date": ti.end_date.isoformat() if ti.end_date else "",
    }


@tasks.command("run")
@click.argument("dag_id")
@click.argument("task_id")
@click.argument("logical_date_or_run_id")
@click.option("-m", "--map-index", type=int, default=-1, show_default=True)
@click.option("-f", "--force", is_flag=True, help="Run it even if it already finished.")
@click.option(
    "-i",
    "--ignore-dependencies",
    is_flag=True,
    help="Ignore upstream states, depends_on_past and the retry delay.",
)
@click.option("-l", "--local", is_flag=True, help="Accepted for Airflow compatibility: always so.")
@click.pass_context
def run(
    ctx: click.Context,
    dag_id: str,
    task_id: str,
    logical_date_or_run_id: str,
    map_index: int,
    force: bool,
    ignore_dependencies: bool,
    local: bool,
) -> None:
    """Run one task instance for real, in this process, recording it like a worker.

    A queued task instance is claimed as it is; one that is none, scheduled or
    up_for_retry (or finished, with --force) gets a new try first. Its log is written
    where the scheduler's workers write theirs. Exits 1 when the try does not succeed.
    """
    from tradewind.dag_processing.processor import collect_dags
    from tradewind.execution.try_run import DagCache
    from tradewind.execution.worker import run_workload
    from tradewind.executors.base import TaskWorkload
    from tradewind.services.task_runs import prepare_task_run

    settings = get_settings(ctx)
    with transaction(sessions(ctx), sqlite_begin="IMMEDIATE") as session:
        prepared = prepare_task_run(
            session,
            dag_id,
            task_id,
            logical_date_or_run_id,
            map_index,
            now=utcnow(),
            force=force,
            ignore_dependencies=ignore_dependencies,
            retry_delay=_retry_delay,
            owner=current_user(),
        )
    workload = TaskWorkload(**prepared.workload_fields())
    label = f"{dag_id}.{task_id} {prepared.run_id}" + (f" [{map_index}]" if map_index >= 0 else "")
    click.echo(f"Running {label}, try {workload.try_number}", err=True)
    outcome = run_workload(
        workload,
        session_factory=sessions(ctx),
        settings=settings,
        dag_cache=DagCache(collect_dags),
    )
    wake_scheduler(ctx)
    if outcome is None:
        raise Conflict(
            f"{label} try {workload.try_number} was taken by another worker (or reset) "
            "before it started; nothing ran"
        )
    from tradewind.execution.task_logging import task_log_path

    log = task_log_path(
        settings.logging.base_log_folder,
        dag_id=dag_id,
        run_id=prepared.run_id,
        task_id=task_id,
        try_number=workload.try_number,
        map_index=map_index,
    )
    state = outcome.state.value
    detail = f": {outcome.error}" if outcome.error else ""
    click.echo(f"{label} try {workload.try_number} {state}{detail} (log: {log})")
    if state not in ("success", "skipped"):
        ctx.exit(1)


def _retry_delay(
    dag_id: str, task: SerializedTask, try_number: int, logical_date: datetime
) -> timedelta:
    """The worker's retry delay for ``task``'s failed try ``try_number``."""
    from tradewind.execution.retry import next_retry_delay

    policy = _RetryPolicy(
        dag_id, task.task_id, task.retry_delay, task.retry_exponential_backoff, task.max_retry_delay
    )
    return next_retry_delay(policy, try_number, logical_date=logical_date)


@dataclass(frozen=True)
class _RetryPolicy:
    """The attributes of a task that ``next_retry_delay`` reads."""

    dag_id: str
    task_id: str
    retry_delay: timedelta
    retry_exponential_backoff: bool
    max_retry_delay: timedelta | None
