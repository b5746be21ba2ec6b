"""How ``dags test`` and ``tasks test`` show what happened: one line per step, then a table."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tradewind.execution.in_process_run import DagTestResult, TaskReport

_STYLES = {
    "success": "green",
    "failed": "red",
    "upstream_failed": "dark_orange",
    "skipped": "magenta",
    "up_for_retry": "yellow",
    "up_for_reschedule": "cyan",
}

_console = Console(highlight=False)


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def print_task_report(report: TaskReport) -> None:
    """One line: task id, state, try, duration, and the return value or the error."""
    state = str(report.state.value if report.state is not None else "none")
    line = Text()
    line.append(f"[{state}] ", style=f"bold {_STYLES.get(state, 'white')}")
    line.append(report.task_id, style="bold")
    if report.try_number:
        line.append(f"  try {report.try_number}  {report.duration:.3f}s")
    if report.error:
        line.append(f"  {report.error}", style="red")
    elif state == "success" and report.return_value is not None:
        line.append(f"  returned {_short(report.return_value)}")
    if report.next_retry_at is not None:
        line.append(f"  retry at {report.next_retry_at.isoformat()}", style="yellow")
    _console.print(line)


def print_dag_result(result: DagTestResult) -> None:
    """The final state of every task and of the run."""
    _console.print(Text(f"DAG {result.dag_id}, run {result.run_id}", style="bold"))
    table = Table()
    table.add_column("task_id")
    table.add_column("state")
    table.add_column("tries", justify="right")
    for task_id, state in result.task_states.items():
        name = str(state.value if state is not None else "none")
        table.add_row(
            task_id, Text(name, style=_STYLES.get(name, "")), str(result.tries.get(task_id, 0))
        )
    _console.print(table)
    style = "bold green" if result.succeeded else "bold red"
    _console.print(Text(f"DAG run {result.state.value}", style=style))
