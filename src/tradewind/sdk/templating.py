"""Jinja templating of operator fields: the environment, and rendering in place.

The task runner calls :func:`render_operator_fields` (through
``BaseOperator.render_template_fields``) with the context from
``tradewind.sdk.context`` just before ``execute``. The rules are Airflow 2's:

* one environment per DAG, built from its ``template_searchpath``,
  ``template_undefined``, ``user_defined_macros``, ``user_defined_filters``,
  ``jinja_environment_kwargs`` and ``render_template_as_native_obj``;
* strings are rendered, lists/tuples/dicts/sets are walked, objects with their
  own ``template_fields`` are rendered in place, anything else is left alone;
* a string ending with one of the operator's ``template_ext`` names a template
  file, looked up in the DAG's folder and then in ``template_searchpath``;
* an ``XComArg`` is replaced by the pulled value, which is *not* rendered again:
  data produced by a task must never be executed as a template.

Unlike Airflow, native rendering is sandboxed too: the sandbox costs a legitimate
template nothing, and ``render_template_as_native_obj`` should not widen what a
template may reach.

Compiled templates are kept per environment (:func:`compile_template`), and
:func:`precompile_templates` compiles a DAG's template strings ahead of time: a
worker's forker does it when it imports a DAG file, so each try, forked from it,
renders without compiling (Jinja compiles a template to Python source, then to code:
a millisecond or more per string, paid by every try of every templated task).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.nativetypes
import jinja2.sandbox

from tradewind.errors import InvalidInput, NotFound
from tradewind.sdk.xcom_arg import XComArg, resolve_xcom_args

if TYPE_CHECKING:
    from tradewind.sdk.baseoperator import BaseOperator
    from tradewind.sdk.dag import DAG


class TemplateRenderError(InvalidInput):
    """A templated field of a task could not be rendered.

    Attributes:
        task_id: the task whose field failed.
        field: the name of the field, as listed in ``template_fields``.
    """

    def __init__(self, task_id: str, field: str, detail: str) -> None:
        super().__init__(f"Could not render template field {field!r} of task {task_id!r}: {detail}")
        self.task_id = task_id
        self.field = field


# -- filters ------------------------------------------------------------------------


def ds_filter(value: date | None) -> str | None:
    """``YYYY-MM-DD``; None stays None, as in Airflow."""
    return None if value is None else value.strftime("%Y-%m-%d")


def ds_nodash_filter(value: date | None) -> str | None:
    """``YYYYMMDD``."""
    return None if value is None else value.strftime("%Y%m%d")


def ts_filter(value: date | None) -> str | None:
    """ISO 8601 with offset: ``2024-01-02T03:04:05+00:00``."""
    return None if value is None else value.isoformat()


def ts_nodash_filter(value: date | None) -> str | None:
    """``20240102T030405``: no separators, no offset."""
    return None if value is None else value.strftime("%Y%m%dT%H%M%S")


def ts_nodash_with_tz_filter(value: date | None) -> str | None:
    """``20240102T030405+0000``: ISO 8601 without ``-`` and ``:``."""
    return None if value is None else value.isoformat().replace("-", "").replace(":", "")


#: The filters every environment has, by name.
FILTERS: dict[str, Callable[..., Any]] = {
    "ds": ds_filter,
    "ds_nodash": ds_nodash_filter,
    "ts": ts_filter,
    "ts_nodash": ts_nodash_filter,
    "ts_nodash_with_tz": ts_nodash_with_tz_filter,
}


# -- environments -------------------------------------------------------------------


class SandboxedEnvironment(jinja2.sandbox.SandboxedEnvironment):
    """Jinja's sandbox, letting templates read ``_private`` attributes as Airflow does.

    Dunder attributes (``__class__``, ``__globals__`` ...) stay forbidden; that is
    what keeps a template from escaping to arbitrary Python.
    """

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return not jinja2.sandbox.is_internal_attribute(obj, attr) and not attr.startswith("__")


class NativeEnvironment(SandboxedEnvironment, jinja2.nativetypes.NativeEnvironment):
    """The sandbox, rendering to Python objects (``[1, 2]`` stays a list)."""


_dag_envs: weakref.WeakKeyDictionary[DAG, dict[bool, jinja2.Environment]] = (
    weakref.WeakKeyDictionary()
)
_dagless_envs: dict[bool, jinja2.Environment] = {}
_compiled: weakref.WeakKeyDictionary[jinja2.Environment, dict[str, jinja2.Template]] = (
    weakref.WeakKeyDictionary()
)
#: Compiled templates kept per environment at most: a DAG's own strings, not every
#: string ever rendered (a template built from data would grow the cache forever).
MAX_COMPILED_PER_ENV = 1024


def build_jinja_env(dag: DAG | None, *, native: bool | None = None) -> jinja2.Environment:
    """The Jinja environment of ``dag``, built once per DAG object and flavour.

    Args:
        dag: the DAG whose template settings apply; None for a task outside any DAG
            (no file loader, no user macros).
        native: render to Python objects; None means the DAG's
            ``render_template_as_native_obj``.

    Returns:
        A cached environment. Changing the DAG's template settings after the first
        call has no effect on it.
    """
    flavour = bool(native if native is not None else dag and dag.render_template_as_native_obj)
    cache = _dagless_envs if dag is None else _dag_envs.setdefault(dag, {})
    env = cache.get(flavour)
    if env is None:
        env = cache[flavour] = _new_env(dag, flavour)
    return env


def _new_env(dag: DAG | None, native: bool) -> jinja2.Environment:
    options: dict[str, Any] = {"undefined": jinja2.StrictUndefined, "extensions": ["jinja2.ext.do"]}
    if dag is not None:
        options["loader"] = jinja2.FileSystemLoader([dag.folder, *dag.template_searchpath])
        if dag.template_undefined is not None:
            options["undefined"] = dag.template_undefined
        options.update(dag.jinja_environment_kwargs)
    env: jinja2.Environment = (NativeEnvironment if native else SandboxedEnvironment)(**options)
    env.filters.update(FILTERS)
    if dag is not None:
        env.globals.update(dag.user_defined_macros)
        env.filters.update(dag.user_defined_filters)
    return env


# -- rendering ----------------------------------------------------------------------


def render_template(
    value: Any,
    context: Mapping[str, Any],
    env: jinja2.Environment,
    *,
    template_ext: Sequence[str] = (),
) -> Any:
    """``value`` with every string in it rendered against ``context``.

    Strings ending with one of ``template_ext`` are template file names, loaded
    through ``env``'s loader. Containers (list, tuple incl. named tuples, dict
    values, set) are rebuilt with rendered members; an object with its own
    ``template_fields`` has those attributes rendered in place; XComArgs are
    pulled through ``context["ti"]``; every other value is returned unchanged.

    Raises:
        jinja2.TemplateError: a template is malformed, names an undefined variable,
            or its file cannot be found. :func:`render_operator_fields` turns this
            into a :class:`TemplateRenderError` naming the task and field.
    """
    return _render(value, context, env, tuple(template_ext), set())


def _render(
    value: Any,
    context: Mapping[str, Any],
    env: jinja2.Environment,
    template_ext: tuple[str, ...],
    seen: set[int],
) -> Any:
    if isinstance(value, str):
        if template_ext and value.endswith(template_ext):
            template = env.get_template(value)
        else:
            template = compile_template(env, value)
        return template.render(context)
    if isinstance(value, XComArg):
        return resolve_xcom_args(value, context)

    def again(item: Any) -> Any:
        return _render(item, context, env, template_ext, seen)

    if type(value) is tuple:
        return tuple(again(item) for item in value)
    if isinstance(value, tuple):  # a named tuple: rebuild with its own class
        return type(value)(*(again(item) for item in value))
    if isinstance(value, list):
        return [again(item) for item in value]
    if isinstance(value, dict):
        return {key: again(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return type(value)(again(item) for item in value)
    nested_fields = getattr(value, "template_fields", None)
    if nested_fields and id(value) not in seen and not isinstance(value, type):
        # Objects like a Kubernetes pod spec template their own attributes; `seen`
        # stops reference cycles between such objects from recursing forever.
        seen.add(id(value))
        for name in nested_fields:
            setattr(value, name, again(getattr(value, name)))
    return value


def compile_template(env: jinja2.Environment, source: str) -> jinja2.Template:
    """``env.from_string(source)``, compiled once per environment and source.

    Raises:
        jinja2.TemplateSyntaxError: ``source`` is malformed (not cached).
    """
    cache = _compiled.setdefault(env, {})
    template = cache.get(source)
    if template is None:
        template = env.from_string(source)
        if len(cache) < MAX_COMPILED_PER_ENV:
            cache[source] = template
    return template


def precompile_templates(dag: DAG) -> None:
    """Compile the template strings of ``dag``'s tasks into the cache of its environment.

    Never raises: a malformed template is reported by the try that renders it.
    """
    env = build_jinja_env(dag)
    for task in dag.tasks:
        for field in task.template_fields:
            for source in _strings(getattr(task, field, None), tuple(task.template_ext)):
                try:
                    compile_template(env, source)
                except jinja2.TemplateError:
                    continue


def _strings(value: Any, template_ext: tuple[str, ...]) -> list[str]:
    """The inline template strings in ``value`` (not template file names), walking
    containers the way :func:`_render` does, but not objects' own fields."""
    if isinstance(value, str):
        return [] if template_ext and value.endswith(template_ext) else [value]
    if isinstance(value, list | tuple | set | frozenset):
        return [s for item in value for s in _strings(item, template_ext)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item, template_ext)]
    return []


def render_operator_fields(
    operator: BaseOperator,
    context: Mapping[str, Any],
    jinja_env: jinja2.Environment | None = None,
) -> None:
    """Render each attribute named in ``operator.template_fields`` in place.

    Args:
        operator: the task about to run.
        context: the template context (see ``tradewind.sdk.context``).
        jinja_env: the environment to use; None means the operator's DAG's
            (:func:`build_jinja_env`).

    Raises:
        TemplateRenderError: a field names an undefined variable, has a syntax
            error, names a template file that cannot be found, or reads a missing
            Variable or Connection; or the operator has no attribute of that name.
    """
    if jinja_env is None:
        jinja_env = build_jinja_env(operator.dag if operator.has_dag else None)
    for field in operator.template_fields:
        if not hasattr(operator, field):
            raise TemplateRenderError(
                operator.task_id,
                field,
                f"it is listed in template_fields but {type(operator).__name__} "
                "has no attribute of that name",
            )
        try:
            rendered = render_template(
                getattr(operator, field),
                context,
                jinja_env,
                template_ext=operator.template_ext,
            )
        except jinja2.TemplateSyntaxError as exc:
            where = f" ({exc.name}, line {exc.lineno})" if exc.name else f" (line {exc.lineno})"
            raise TemplateRenderError(
                operator.task_id, field, f"syntax error{where}: {exc.message}"
            ) from exc
        except jinja2.TemplateNotFound as exc:
            raise TemplateRenderError(
                operator.task_id, field, f"template file {exc.name!r} not found"
            ) from exc
        except (jinja2.TemplateError, NotFound, LookupError) as exc:
            raise TemplateRenderError(operator.task_id, field, str(exc)) from exc
        setattr(operator, field, rendered)
