"""The two model bases: strict request bodies and plain response bodies."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, Strict

from tradewind.errors import InvalidInput


class RequestBody(BaseModel):
    """A request body: unknown fields are refused (400) rather than ignored.

    Types are not coerced from strings (``"slots": "4"`` is a 400), as Airflow's
    validation does; fields left out stay unset, which ``model_fields_set`` tells apart
    from an explicit ``null`` for PATCH semantics.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    def require(self, *names: str) -> None:
        """Raise InvalidInput naming the fields of ``names`` left out or null.

        Fields are optional in the model so that PATCH can tell "left out" from "null";
        POST handlers call this for the fields the spec's operation requires.
        """
        missing = [name for name in names if getattr(self, name) is None]
        if missing:
            raise InvalidInput(f"Missing required property(ies): {missing}")


class ResponseBody(BaseModel):
    """A response body; built by ``from_row`` class methods, never from user input."""

    model_config = ConfigDict(extra="ignore")


#: A date-time in a request: an RFC 3339 string with its offset (``...Z``/``+02:00``).
ApiDateTime = Annotated[AwareDatetime, Strict(False)]

#: An integer compared with a database column (an id, a map index): SQLite cannot bind
#: one beyond 64 bits, so such input is refused (400) instead of failing the query (500).
DbInt = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


def positional_names(function: Callable[..., Any]) -> tuple[str, ...]:
    """The names of ``function``'s positional-only parameters, in order.

    A document builder that takes a row's values by position (the cheapest way to read
    a hundred rows) names each value's column by its parameter: this is then the one
    place that says which column comes where.
    """
    return tuple(
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY
    )
