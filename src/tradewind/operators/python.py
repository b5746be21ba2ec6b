"""Python operators: call a Python function, optionally branching or short-circuiting.

The callable receives ``op_args`` positionally, then by keyword the ``op_kwargs`` and
those context entries its signature names (every one of them if it takes
``**kwargs``), as Airflow's ``determine_kwargs`` does. So ``def f(ds, ti)`` and
``def f(**context)`` both work, and a function that asks for nothing gets nothing.

Branching and short-circuiting skip tasks through ``context["ti"].skip_tasks``; the
scheduler then applies downstream trigger rules, so a join with
``none_failed_min_one_success`` still runs after a branch.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.exceptions import AirflowException
from tradewind.sdk.params import DagParam
from tradewind.sdk.xcom_arg import XComArg

log = logging.getLogger("tradewind.task")

#: The XCom key under which skipping tasks record what they followed or skipped (Airflow's).
SKIPMIXIN_KEY = "skipmixin_key"

#: Names the task runner puts in a task's context (Airflow 2's). A decorated function
#: may declare any of them as a parameter without the caller passing it.
KNOWN_CONTEXT_KEYS: frozenset[str] = frozenset(
    {
        "conf",
        "conn",
        "dag",
        "dag_run",
        "data_interval_end",
        "data_interval_start",
        "ds",
        "ds_nodash",
        "exception",
        "execution_date",
        "expanded_ti_count",
        "inlet_events",
        "inlets",
        "logical_date",
        "macros",
        "map_index_template",
        "next_ds",
        "next_ds_nodash",
        "next_execution_date",
        "outlet_events",
        "outlets",
        "params",
        "prev_data_interval_end_success",
        "prev_data_interval_start_success",
        "prev_ds",
        "prev_ds_nodash",
        "prev_end_date_success",
        "prev_execution_date",
        "prev_execution_date_success",
        "prev_start_date_success",
        "reason",
        "run_id",
        "task",
        "task_instance",
        "task_instance_key_str",
        "templates_dict",
        "test_mode",
        "ti",
        "tomorrow_ds",
        "tomorrow_ds_nodash",
        "triggering_dataset_events",
        "ts",
        "ts_nodash",
        "ts_nodash_with_tz",
        "try_number",
        "var",
        "yesterday_ds",
        "yesterday_ds_nodash",
    }
)


def determine_kwargs(
    func: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """The subset of ``kwargs`` that ``func`` accepts: all of it if ``func`` takes ``**kwargs``.

    Raises:
        ValueError: a positional argument would also be passed by keyword, which Python
            would reject with a less helpful message at call time.
    """
    signature = inspect.signature(func)
    positional_names = [
        name
        for name, param in signature.parameters.items()
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)
    ]
    for name in positional_names[: len(args)]:
        if name in kwargs:
            raise ValueError(
                f"The key {name!r} in args is a part of kwargs and therefore reserved."
            )
    if any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values()):
        return dict(kwargs)
    return {name: kwargs[name] for name in signature.parameters if name in kwargs}


def resolve_references(value: Any, context: Mapping[str, Any]) -> Any:
    """``value`` with every nested ``XComArg`` and ``DagParam`` replaced by its run-time value.

    The runner normally resolves them while rendering template fields; doing it again
    here is a no-op then, and lets an operator run when it is executed directly.
    """
    if isinstance(value, XComArg | DagParam):
        return value.resolve(context)
    if isinstance(value, list):
        return [resolve_references(item, context) for item in value]
    if isinstance(value, tuple):
        return tuple(resolve_references(item, context) for item in value)
    if isinstance(value, dict):
        return {key: resolve_references(item, context) for key, item in value.items()}
    return value


def call_with_context(
    func: Callable[..., Any],
    op_args: Iterable[Any],
    op_kwargs: Mapping[str, Any],
    context: Mapping[str, Any],
) -> Any:
    """Call ``func(*op_args, **kwargs)`` where kwargs are ``op_kwargs`` laid over ``context``,
    filtered to what ``func`` accepts."""
    args = resolve_references(list(op_args), context)
    merged = {**context, **resolve_references(dict(op_kwargs), context)}
    return func(*args, **determine_kwargs(func, args, merged))


class PythonOperator(BaseOperator):
    """Run ``python_callable`` and push its return value to XCom.

    Args:
        python_callable: the function to call.
        op_args: positional arguments (templated; XComArgs make upstream dependencies).
        op_kwargs: keyword arguments (templated), also offered to the callable with the
            context entries.
        templates_dict: a dict rendered with the context and given to the callable as
            ``templates_dict``.
        templates_exts: file suffixes whose files are read and rendered in
            ``templates_dict`` (e.g. ``[".sql"]``).
        show_return_value_in_logs: log the return value; turn off for large or secret ones.
        **kwargs: BaseOperator arguments. ``provide_context`` is accepted and ignored, as
            in Airflow 2, where the context is always provided.

    Raises:
        AirflowException: ``python_callable`` is not callable.
    """

    template_fields: ClassVar[Sequence[str]] = ("templates_dict", "op_args", "op_kwargs")
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "templates_dict": "json",
        "op_args": "py",
        "op_kwargs": "py",
    }
    ui_color: ClassVar[str] = "#ffefeb"

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        templates_exts: Sequence[str] | None = None,
        show_return_value_in_logs: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("provide_context", None)
        super().__init__(**kwargs)
        if not callable(python_callable):
            raise AirflowException("`python_callable` param must be callable")
        self.python_callable = python_callable
        self.op_args = op_args or ()
        self.op_kwargs = op_kwargs or {}
        self.templates_dict = templates_dict
        if templates_exts:
            self.template_ext = tuple(templates_exts)  # type: ignore[misc]
        self.show_return_value_in_logs = show_return_value_in_logs

    def execute(self, context: dict[str, Any]) -> Any:
        result = self.execute_callable(context)
        if self.show_return_value_in_logs:
            log.info("Done. Returned value was: %s", result)
        else:
            log.info("Done. Returned value not shown")
        return result

    def execute_callable(self, context: Mapping[str, Any]) -> Any:
        """Call the callable with its arguments and the context entries it asks for."""
        context = {**context, "templates_dict": self.templates_dict}
        return call_with_context(self.python_callable, self.op_args, self.op_kwargs, context)


class BranchPythonOperator(PythonOperator):
    """Follow the branch(es) the callable returns and skip the other direct downstream tasks.

    The callable returns a task id, a list of task ids, or None (skip every direct
    downstream task). A task group's id stands for the group's root tasks. A direct
    downstream task that is also downstream of a chosen branch (a join) is not skipped.

    Raises:
        AirflowException: the callable returned something other than ids, or an id that
            is neither a task nor a task group of the DAG.
    """

    def execute(self, context: dict[str, Any]) -> Any:
        branches = super().execute(context)
        skip_all_except(self, context, branches)
        return branches


class ShortCircuitOperator(PythonOperator):
    """Continue only if the callable returns a truthy value; otherwise skip downstream.

    Args:
        ignore_downstream_trigger_rules: when True (the default) every task downstream,
            however far, is skipped regardless of its trigger rule. When False only the
            direct downstream tasks are skipped and the scheduler applies the trigger
            rules of the tasks after them (an ``all_done`` task will still run).
    """

    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules

    def execute(self, context: dict[str, Any]) -> Any:
        condition = super().execute(context)
        log.info("Condition result is %s", condition)
        if condition:
            log.info("Proceeding with downstream tasks...")
            return condition
        if self.ignore_downstream_trigger_rules:
            to_skip = self.get_flat_relative_ids(upstream=False)
        else:
            to_skip = set(self.downstream_task_ids)
        if to_skip:
            log.info("Skipping downstream tasks: %s", sorted(to_skip))
            ti = context["ti"]
            ti.skip_tasks(sorted(to_skip))
            ti.xcom_push(SKIPMIXIN_KEY, {"skipped": sorted(to_skip)})
        return condition


def skip_all_except(task: BaseOperator, context: Mapping[str, Any], branches: Any) -> None:
    """Skip the direct downstream tasks of ``task`` that ``branches`` does not lead to.

    Shared by the Python branch operator and ``@task.branch``; records the followed
    ids under ``skipmixin_key`` as Airflow does.
    """
    chosen = _expand_task_groups(task, _branch_ids(branches))
    dag = task.dag
    unknown = chosen - set(dag.task_ids)
    if unknown:
        raise AirflowException(
            f"'branch_task_ids' must contain only valid task_ids. "
            f"Invalid tasks found: {sorted(unknown)}."
        )
    # A direct downstream task that is also downstream of a chosen branch (the join in
    # branch >> [a, join], a >> join) must not be skipped: its trigger rule decides.
    followed = set(chosen)
    for task_id in chosen:
        followed |= dag.get_task(task_id).get_flat_relative_ids(upstream=False)
    to_skip = sorted(task.downstream_task_ids - followed)
    follow = sorted(task.downstream_task_ids & followed)
    log.info("Following branch %s; skipping %s", follow, to_skip)
    ti = context["ti"]
    if to_skip:
        ti.skip_tasks(to_skip)
    ti.xcom_push(SKIPMIXIN_KEY, {"followed": follow})


def _branch_ids(branches: Any) -> set[str]:
    if branches is None:
        return set()
    if isinstance(branches, str):
        return {branches}
    if isinstance(branches, Iterable):
        ids = list(branches)
        wrong = [item for item in ids if not isinstance(item, str)]
        if wrong:
            raise AirflowException(
                "'branch_task_ids' expected all task IDs are strings. "
                f"Invalid tasks found: {wrong}."
            )
        return set(ids)
    raise AirflowException(
        "'branch_task_ids' must be either None, a task ID, or an Iterable of IDs, "
        f"but got {type(branches).__name__!r}."
    )


def _expand_task_groups(task: BaseOperator, ids: set[str]) -> set[str]:
    """Replace each task group id by the ids of the group's root tasks."""
    groups = task.dag.task_group_dict
    expanded: set[str] = set()
    for branch in ids:
        if branch in groups and branch not in task.dag.task_dict:
            expanded.update(root.task_id for root in groups[branch].roots)
        else:
            expanded.add(branch)
    return expanded
