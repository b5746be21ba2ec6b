"""The two model bases: strict request bodies and plain response bodies."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Strict


class RequestBody(BaseModel):
    """A request body: unknown fields are refused (400) rather than ignored.

    Types are not coerced from strings (``"slots": "4"`` is a 400), as Airflow's
    validation does; fields left out stay unset, which ``model_fields_set`` tells apart
    from an explicit ``null`` for PATCH semantics.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


class ResponseBody(BaseModel):
    """A response body; built by ``from_row`` class methods, never from user input."""

    model_config = ConfigDict(extra="ignore")


#: A date-time in a request: an RFC 3339 string with its offset (``...Z``/``+02:00``).
ApiDateTime = Annotated[AwareDatetime, Strict(False)]
