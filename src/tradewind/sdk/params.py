"""Params: typed, validated inputs of a DAG run, overridable by the run's ``conf``.

A ``Param`` carries a default and a JSON schema (``type``, ``enum``, ``minimum`` ...).
:func:`resolve_params` merges the DAG's params with a run's conf and validates every
value, so a bad trigger is refused before anything is created.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from tradewind.errors import InvalidInput


class _NoValue:
    def __repr__(self) -> str:
        return "NOTSET"

    def __bool__(self) -> bool:
        return False


#: Marks a Param without a default; such a param must be given in the run's conf.
NOTSET: Any = _NoValue()


class Param:
    """One DAG parameter.

    Args:
        default: the value used when the run's conf does not give one; NOTSET
            makes the param required.
        description: shown in the UI's trigger form.
        **schema: JSON-schema keywords the value must satisfy (``type``, ``minimum``,
            ``enum``, ``format`` ...).
    """

    def __init__(self, default: Any = NOTSET, description: str | None = None, **schema: Any):
        self.value = default
        self.description = description
        self.schema = schema
        if default is not NOTSET and default is not None:
            self.validate(default, "<default>")

    def validate(self, value: Any, name: str) -> Any:
        """Return ``value`` if it satisfies the schema; raise InvalidInput naming the param."""
        if value is NOTSET:
            raise InvalidInput(f"Param '{name}' is required and has no value.")
        if value is None and "null" not in _types(self.schema) and self.value is None:
            return value
        # Imported here, not at the top: jsonschema is most of the cost of `import
        # tradewind`, and DAG files that only declare params never validate them.
        import jsonschema

        try:
            jsonschema.validate(value, self.schema, format_checker=jsonschema.FormatChecker())
        except jsonschema.ValidationError as exc:
            raise InvalidInput(f"Invalid value for param '{name}': {exc.message}") from None
        except jsonschema.SchemaError as exc:
            raise InvalidInput(f"Param '{name}' has an invalid schema: {exc.message}") from None
        return value

    def dump(self) -> dict[str, Any]:
        return {
            "value": None if self.value is NOTSET else self.value,
            "has_default": self.value is not NOTSET,
            "description": self.description,
            "schema": dict(self.schema),
        }

    def __repr__(self) -> str:
        return f"Param({self.value!r}, schema={self.schema!r})"


class DagParam:
    """A reference to the DAG param ``name``, resolved when a task runs.

    ``@dag`` passes one for each argument of the decorated function, so a run's conf
    can override the value the DAG was defined with. Passed to a task (``@task`` or
    ``op_args``/``op_kwargs``) it is replaced by the run's value; formatted into a
    string (``f"echo {n}"``) it becomes the template ``{{ params.n }}``, which a
    templated field renders to the same value.
    """

    def __init__(self, name: str, default: Any = NOTSET) -> None:
        self.name = name
        self.default = default

    def resolve(self, context: Mapping[str, Any]) -> Any:
        """The run's value of the param: its resolved params first, then the default.

        Raises:
            InvalidInput: the run has no such param and there is no default.
        """
        params = context.get("params") or {}
        if self.name in params:
            return params[self.name]
        default = self.default.value if isinstance(self.default, Param) else self.default
        if default is not NOTSET:
            return default
        raise InvalidInput(f"No value could be resolved for parameter {self.name}")

    def __str__(self) -> str:
        lookup = f".{self.name}" if self.name.isidentifier() else f"[{self.name!r}]"
        return "{{ params" + lookup + " }}"

    def __repr__(self) -> str:
        return f"DagParam({self.name!r}, default={self.default!r})"


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


class ParamsDict(MutableMapping[str, Any]):
    """Params by name; reading an item gives its value, ``get_param`` the Param."""

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._params: dict[str, Param] = {}
        for key, value in (values or {}).items():
            self[key] = value

    def __setitem__(self, key: str, value: Any) -> None:
        self._params[key] = value if isinstance(value, Param) else Param(value)

    def __getitem__(self, key: str) -> Any:
        value = self._params[key].value
        return None if value is NOTSET else value

    def __delitem__(self, key: str) -> None:
        del self._params[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def get_param(self, key: str) -> Param:
        return self._params[key]

    def params(self) -> dict[str, Param]:
        return dict(self._params)

    def copy(self) -> ParamsDict:
        clone = ParamsDict()
        clone._params = dict(self._params)
        return clone

    def merged(self, other: Mapping[str, Any] | None) -> ParamsDict:
        """A copy with ``other``'s params (or plain values) laid over these."""
        clone = self.copy()
        if isinstance(other, ParamsDict):
            clone._params.update(other._params)
        elif other:
            for key, value in other.items():
                clone[key] = value
        return clone

    def dump(self) -> dict[str, dict[str, Any]]:
        return {key: param.dump() for key, param in self._params.items()}


def resolve_params(params: ParamsDict, conf: Mapping[str, Any] | None) -> dict[str, Any]:
    """The params a run sees: defaults overridden by ``conf``, every value validated.

    Raises:
        InvalidInput: a required param is missing or a value breaks its schema.
    """
    resolved: dict[str, Any] = {}
    conf = conf or {}
    for name, param in params.params().items():
        value = conf[name] if name in conf else param.value
        resolved[name] = param.validate(value, name)
    return resolved
