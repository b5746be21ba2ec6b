"""Drawing a DAG for ``dags show``: a rich text tree, or Graphviz DOT as Airflow prints."""

from __future__ import annotations

from rich.tree import Tree

from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.dag import DAG


def dag_tree(dag: DAG) -> Tree:
    """Each root task with its downstream tasks nested under it.

    A task reached a second time (a join) is shown as a reference instead of again,
    so the tree stays linear in the number of edges.
    """
    tree = Tree(f"[bold]{dag.dag_id}[/bold]  schedule: {dag.timetable.summary}")
    shown: set[str] = set()
    for root in sorted(dag.roots, key=lambda task: task.task_id):
        _add(tree, root, shown)
    return tree


def _add(parent: Tree, task: BaseOperator, shown: set[str]) -> None:
    label = f"{task.task_id} [dim]({task.operator_name})[/dim]"
    if task.task_id in shown:
        parent.add(f"{task.task_id} [dim]↑ shown above[/dim]")
        return
    shown.add(task.task_id)
    branch = parent.add(label)
    for downstream in task.downstream_list:
        _add(branch, downstream, shown)


def dag_to_dot(dag: DAG) -> str:
    """Graphviz DOT source: one node per task, one edge per dependency."""
    lines = [f'digraph "{dag.dag_id}" {{', "  rankdir=LR;", "  node [shape=box];"]
    for task in dag.tasks:
        lines.append(f'  "{task.task_id}" [label="{task.task_id}"];')
    for task in dag.tasks:
        for down in sorted(task.downstream_task_ids):
            lines.append(f'  "{task.task_id}" -> "{down}";')
    lines.append("}")
    return "\n".join(lines)
