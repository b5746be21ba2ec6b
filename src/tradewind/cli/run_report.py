"""How ``dags test`` and ``tasks test`` show what happened: one line per step, then a table."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tradewind.execution.in_process_run import DagTestResult, TaskReport
from tradewind.execution.secrets_masker import SecretsMasker

_STYLES = {
    "success": "green",
    "failed": "red",
    "upstream_failed": "dark_orange",
    "skipped": "magenta",
    "up_for_retry": "yellow",
    "up_for_reschedule": "cyan",
}

_console = Console(highlight=False)


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shown_value(value: Any, masker: SecretsMasker | None) -> str:
    """The repr of a return value, secrets masked before it is cut short."""
    if masker is None:
        return _short(repr(value))
    if isinstance(value, str):  # before repr, which may escape characters of a secret
        value = masker.mask(value)
    return _short(masker.mask(repr(value)))


def print_task_report(report: TaskReport, masker: SecretsMasker | None = None) -> None:
    """One line: task id, state, try, duration, and the return value or the error.

    The return value is printed with the secrets of ``masker`` replaced by ``***``, as
    the task's log shows it. The line is never wrapped, so ``grep`` finds it whole.
    """
    state = str(report.state.value if report.state is not None else "none")
    line = Text()
    line.append(f"[{state}] ", style=f"bold {_STYLES.get(state, 'white')}")
    line.append(report.task_id, style="bold")
    if report.try_number:
        line.append(f"  try {report.try_number}  {report.duration:.3f}s")
    if report.error:
        line.append(f"  {report.error}", style="red")
    elif state == "success" and report.return_value is not None:
        line.append(f"  returned {_shown_value(report.return_value, masker)}")
    if report.next_retry_at is not None:
        line.append(f"  retry at {report.next_retry_at.isoformat()}", style="yellow")
    _console.print(line, soft_wrap=True)


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
