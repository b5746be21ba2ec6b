"""BaseOperator: the one class users subclass to write a task.

An operator is a task's definition: its id, retry policy, trigger rule, pool,
templated fields and the ``execute(context)`` that does the work. It knows nothing
about databases or processes; the task runner (``tradewind.execution``) renders
its template fields and calls ``execute``.

Arguments keep Airflow's names. Each base argument is resolved as: given
explicitly > the DAG's (or task group's) ``default_args`` > the built-in default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from tradewind.errors import DagDefinitionError
from tradewind.sdk import definition_context
from tradewind.sdk.dependencies import (
    DependencyNode,
    lshift,
    rlshift,
    rrshift,
    rshift,
    set_relatives,
)
from tradewind.sdk.keys import validate_key
from tradewind.sdk.params import ParamsDict
from tradewind.sdk.time import as_utc
from tradewind.sdk.trigger_rules import TriggerRule
from tradewind.sdk.weight_rule import WeightRule

if TYPE_CHECKING:
    from tradewind.sdk.dag import DAG
    from tradewind.sdk.task_group import TaskGroup
    from tradewind.sdk.xcom_arg import XComArg

DEFAULT_OWNER = "airflow"
DEFAULT_POOL = "default_pool"
DEFAULT_QUEUE = "default"
DEFAULT_RETRY_DELAY = timedelta(seconds=300)

Callback = Callable[[dict[str, Any]], Any]


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()

#: Built-in defaults of the base arguments that ``default_args`` may set.
_BASE_DEFAULTS: dict[str, Any] = {
    "owner": DEFAULT_OWNER,
    "email": None,
    "email_on_failure": True,
    "email_on_retry": True,
    "retries": 0,
    "retry_delay": DEFAULT_RETRY_DELAY,
    "retry_exponential_backoff": False,
    "max_retry_delay": None,
    "start_date": None,
    "end_date": None,
    "depends_on_past": False,
    "wait_for_downstream": False,
    "priority_weight": 1,
    "weight_rule": WeightRule.DOWNSTREAM,
    "queue": DEFAULT_QUEUE,
    "pool": DEFAULT_POOL,
    "pool_slots": 1,
    "execution_timeout": None,
    "trigger_rule": TriggerRule.ALL_SUCCESS,
    "do_xcom_push": True,
    "multiple_outputs": False,
    "executor_config": None,
    "max_active_tis_per_dag": None,
    "max_active_tis_per_dagrun": None,
    "on_execute_callback": None,
    "on_success_callback": None,
    "on_failure_callback": None,
    "on_retry_callback": None,
    "on_skipped_callback": None,
    "doc_md": None,
    "doc": None,
    "inlets": None,
    "outlets": None,
    "task_display_name": None,
    "executor": None,
}


class BaseOperator:
    """Base of every task. Subclass it and implement :meth:`execute`.

    Attributes:
        template_fields: names of attributes rendered with Jinja before ``execute``.
        template_ext: file suffixes; a templated string ending in one is read from
            the DAG's folder (or ``template_searchpath``) and rendered.
        template_fields_renderers: how the UI shows each rendered field (``bash``, ``json``...).
        ui_color, ui_fgcolor: colours of the task in the graph view.
    """

    template_fields: ClassVar[Sequence[str]] = ()
    template_ext: ClassVar[Sequence[str]] = ()
    template_fields_renderers: ClassVar[dict[str, str]] = {}
    ui_color: ClassVar[str] = "#fff"
    ui_fgcolor: ClassVar[str] = "#000"
    #: Whether the executor may skip running this task (EmptyOperator): it just succeeds.
    inherits_from_empty_operator: ClassVar[bool] = False
    #: Name shown in the UI instead of the class name, when set.
    custom_operator_name: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        task_id: str,
        dag: DAG | None = None,
        task_group: TaskGroup | None = None,
        default_args: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        owner: str = _UNSET,
        email: str | Iterable[str] | None = _UNSET,
        email_on_failure: bool = _UNSET,
        email_on_retry: bool = _UNSET,
        retries: int | None = _UNSET,
        retry_delay: timedelta | float = _UNSET,
        retry_exponential_backoff: bool = _UNSET,
        max_retry_delay: timedelta | float | None = _UNSET,
        start_date: datetime | None = _UNSET,
        end_date: datetime | None = _UNSET,
        depends_on_past: bool = _UNSET,
        wait_for_downstream: bool = _UNSET,
        priority_weight: int = _UNSET,
        weight_rule: str = _UNSET,
        queue: str = _UNSET,
        pool: str | None = _UNSET,
        pool_slots: int = _UNSET,
        execution_timeout: timedelta | None = _UNSET,
        trigger_rule: str = _UNSET,
        do_xcom_push: bool = _UNSET,
        multiple_outputs: bool = _UNSET,
        executor_config: dict[str, Any] | None = _UNSET,
        max_active_tis_per_dag: int | None = _UNSET,
        max_active_tis_per_dagrun: int | None = _UNSET,
        on_execute_callback: Callback | list[Callback] | None = _UNSET,
        on_success_callback: Callback | list[Callback] | None = _UNSET,
        on_failure_callback: Callback | list[Callback] | None = _UNSET,
        on_retry_callback: Callback | list[Callback] | None = _UNSET,
        on_skipped_callback: Callback | list[Callback] | None = _UNSET,
        doc_md: str | None = _UNSET,
        doc: str | None = _UNSET,
        inlets: Any = _UNSET,
        outlets: Any = _UNSET,
        task_display_name: str | None = _UNSET,
        executor: str | None = _UNSET,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise DagDefinitionError(
                f"Invalid arguments were passed to {type(self).__name__} (task_id: {task_id}). "
                f"Invalid arguments were: {sorted(kwargs)}"
            )
        dag = dag if dag is not None else _dag_of(task_group) or definition_context.current_dag()
        group = task_group if task_group is not None else definition_context.current_group(dag)
        given = {k: v for k, v in locals().items() if k in _BASE_DEFAULTS}
        defaults = _merged_default_args(dag, group, default_args)

        def pick(name: str) -> Any:
            value = given[name]
            if value is _UNSET:
                value = defaults.get(name, _BASE_DEFAULTS[name])
            return value

        self._own_task_id = validate_key("task_id", task_id)
        self.task_id = group.child_id(task_id) if group is not None else task_id
        validate_key("task_id", self.task_id)
        self.owner = str(pick("owner"))
        self.email = pick("email")
        self.email_on_failure = bool(pick("email_on_failure"))
        self.email_on_retry = bool(pick("email_on_retry"))
        retries_value = pick("retries")
        self.retries = int(retries_value) if retries_value is not None else 0
        if self.retries < 0:
            raise DagDefinitionError(f"Task {task_id!r}: retries must not be negative.")
        self.retry_delay = _as_timedelta(pick("retry_delay"), "retry_delay", task_id)
        self.retry_exponential_backoff = bool(pick("retry_exponential_backoff"))
        max_delay = pick("max_retry_delay")
        self.max_retry_delay = (
            _as_timedelta(max_delay, "max_retry_delay", task_id) if max_delay is not None else None
        )
        self.start_date = as_utc(pick("start_date"))
        self.end_date = as_utc(pick("end_date"))
        self.depends_on_past = bool(pick("depends_on_past"))
        self.wait_for_downstream = bool(pick("wait_for_downstream"))
        if self.wait_for_downstream:
            self.depends_on_past = True
        self.priority_weight = int(pick("priority_weight"))
        self.weight_rule = WeightRule.parse(pick("weight_rule"))
        self.queue = str(pick("queue"))
        pool_name = pick("pool")
        self.pool = str(pool_name) if pool_name else DEFAULT_POOL
        self.pool_slots = int(pick("pool_slots"))
        if self.pool_slots < 1:
            raise DagDefinitionError(f"Task {task_id!r}: pool_slots must be at least 1.")
        timeout = pick("execution_timeout")
        self.execution_timeout = (
            _as_timedelta(timeout, "execution_timeout", task_id) if timeout is not None else None
        )
        self.trigger_rule = TriggerRule.parse(pick("trigger_rule"))
        self.do_xcom_push = bool(pick("do_xcom_push"))
        self.multiple_outputs = bool(pick("multiple_outputs"))
        self.executor_config = pick("executor_config") or {}
        self.max_active_tis_per_dag = pick("max_active_tis_per_dag")
        self.max_active_tis_per_dagrun = pick("max_active_tis_per_dagrun")
        self.on_execute_callback = pick("on_execute_callback")
        self.on_success_callback = pick("on_success_callback")
        self.on_failure_callback = pick("on_failure_callback")
        self.on_retry_callback = pick("on_retry_callback")
        self.on_skipped_callback = pick("on_skipped_callback")
        self.doc_md = pick("doc_md")
        self.doc = pick("doc")
        self.inlets = _as_list(pick("inlets"))
        self.outlets = _as_list(pick("outlets"))
        self.task_display_name = pick("task_display_name")
        self.executor = pick("executor")
        self.params = ParamsDict(defaults.get("params")).merged(params)

        self.upstream_task_ids: set[str] = set()
        self.downstream_task_ids: set[str] = set()
        self.task_group: TaskGroup | None = group
        self._dag: DAG | None = None
        if dag is not None:
            dag.add_task(self)
        if group is not None:
            group.add(self)
        self._initialised = True

    # -- the work --------------------------------------------------------------------

    def execute(self, context: dict[str, Any]) -> Any:
        """Do the task's work; the return value is pushed to XCom as ``return_value``.

        Raise ``tradewind.exceptions.TaskSkipped`` to skip, ``TaskFailed`` to fail without
        retrying; any other exception fails the try (and retries apply).
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement execute()")

    def pre_execute(self, context: dict[str, Any]) -> None:
        """Called just before :meth:`execute`, after templates are rendered."""

    def post_execute(self, context: dict[str, Any], result: Any = None) -> None:
        """Called just after :meth:`execute` returned ``result``."""

    def on_kill(self) -> None:
        """Called when the task is killed (timeout, user action); release external work."""

    def render_template_fields(self, context: dict[str, Any], jinja_env: Any = None) -> None:
        """Render every attribute in ``template_fields`` in place with ``context``."""
        from tradewind.sdk.templating import render_operator_fields

        render_operator_fields(self, context, jinja_env)

    # -- identity and graph ----------------------------------------------------------

    @property
    def dag(self) -> DAG:
        """The DAG of this task; raises DagDefinitionError when it has none yet."""
        if self._dag is None:
            raise DagDefinitionError(f"Task {self.task_id!r} has not been assigned to a DAG yet.")
        return self._dag

    @dag.setter
    def dag(self, dag: DAG) -> None:
        dag.add_task(self)

    @property
    def has_dag(self) -> bool:
        return self._dag is not None

    @property
    def dag_id(self) -> str:
        return self._dag.dag_id if self._dag is not None else f"adhoc_{self.owner}"

    @property
    def label(self) -> str:
        """The task id without its task group prefix, as the graph view shows it."""
        return self._own_task_id

    @property
    def operator_name(self) -> str:
        return self.custom_operator_name or type(self).__name__

    @property
    def task_type(self) -> str:
        return type(self).__name__

    @property
    def output(self) -> XComArg:
        """The task's return value, as an argument to pass to other tasks."""
        from tradewind.sdk.xcom_arg import XComArg

        return XComArg(self)

    @property
    def upstream_list(self) -> list[BaseOperator]:
        return [self.dag.get_task(task_id) for task_id in sorted(self.upstream_task_ids)]

    @property
    def downstream_list(self) -> list[BaseOperator]:
        return [self.dag.get_task(task_id) for task_id in sorted(self.downstream_task_ids)]

    @property
    def roots(self) -> list[BaseOperator]:
        return [self]

    @property
    def leaves(self) -> list[BaseOperator]:
        return [self]

    def set_upstream(self, other: DependencyNode | Sequence[DependencyNode]) -> None:
        set_relatives(other, self)

    def set_downstream(self, other: DependencyNode | Sequence[DependencyNode]) -> None:
        set_relatives(self, other)

    __rshift__ = rshift
    __lshift__ = lshift
    __rrshift__ = rrshift
    __rlshift__ = rlshift

    def get_flat_relative_ids(self, *, upstream: bool) -> set[str]:
        """Every task id reachable upstream (or downstream) from this task."""
        found: set[str] = set()
        frontier = [self]
        while frontier:
            task = frontier.pop()
            relatives = task.upstream_task_ids if upstream else task.downstream_task_ids
            for task_id in relatives - found:
                found.add(task_id)
                frontier.append(self.dag.get_task(task_id))
        return found

    def __setattr__(self, name: str, value: Any) -> None:
        # An XComArg assigned to a templated field makes its producer an upstream task,
        # as in Airflow; subclasses assign their fields after BaseOperator.__init__.
        super().__setattr__(name, value)
        if name in self.template_fields and getattr(self, "_initialised", False):
            from tradewind.sdk.xcom_arg import set_xcom_dependencies

            set_xcom_dependencies(self, value)

    def __repr__(self) -> str:
        return f"<Task({type(self).__name__}): {self.task_id}>"


def _dag_of(group: TaskGroup | None) -> DAG | None:
    return group.dag if group is not None else None


def _merged_default_args(
    dag: DAG | None, group: TaskGroup | None, own: dict[str, Any] | None
) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    if dag is not None:
        merged.update(dag.default_args)
    if group is not None:
        merged.update(group.inherited_default_args())
    merged.update(own or {})
    return merged


def _as_timedelta(value: Any, name: str, task_id: str) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    raise DagDefinitionError(f"Task {task_id!r}: {name} must be a timedelta or seconds.")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return list(value)
    return [value]
